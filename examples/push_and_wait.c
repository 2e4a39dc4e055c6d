/* Example for libqueuectl: push N jobs, wait for them (qc_client_states: one
 * request per look for all of them), print the failures.
 *
 *   cc push_and_wait.c $(pkg-config --cflags --libs queuectl) -o push_and_wait
 *   ./push_and_wait 1000
 */
#include <queuectl/client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 100;
    if (count < 1 || count > 10000) {
        fprintf(stderr, "usage: push_and_wait [COUNT 1-10000]\n");
        return 2;
    }
    qc_client_t *client = qc_client_connect();
    if (!client)
        return 1;
    /* One atomic batch: every 10th job fails on purpose. */
    cJSON *jobs = cJSON_CreateArray();
    for (int i = 0; i < count; i++) {
        char command[64];
        snprintf(command, sizeof command, i % 10 == 9 ? "echo job %d; exit 3" : "echo job %d", i);
        cJSON *job = cJSON_CreateObject();
        cJSON_AddStringToObject(job, "command", command);
        cJSON_AddNumberToObject(job, "max_retries", 0);
        cJSON_AddItemToArray(jobs, job);
    }
    char err[512];
    cJSON *ids = NULL;
    int rc = qc_client_enqueue_many(client, jobs, &ids, err, sizeof err);
    cJSON_Delete(jobs);
    if (rc != 0) {
        fprintf(stderr, "enqueue failed: %s\n", err);
        qc_client_destroy(&client);
        return 1;
    }
    /* Wait for all of them with one request per look (the states op), then
     * read the whole job (qc_client_wait returns it) of each that failed. */
    int count_ids = cJSON_GetArraySize(ids);
    const char **id_list = calloc((size_t)count_ids, sizeof *id_list);
    int n = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) id_list[n++] = id->valuestring;
    for (int waited_ms = 0, open = count_ids; open > 0 && waited_ms < 60000; waited_ms += 100) {
        cJSON *states = NULL;
        if (qc_client_states(client, id_list, n, &states, err, sizeof err) != 0) {
            fprintf(stderr, "states: %s\n", err);
            break;
        }
        open = 0;
        const cJSON *job;
        cJSON_ArrayForEach(job, states)
        {
            const char *state = cJSON_GetObjectItem(job, "state")->valuestring;
            open += strcmp(state, "completed") != 0 && strcmp(state, "dead") != 0 &&
                    strcmp(state, "canceled") != 0;
        }
        cJSON_Delete(states);
        if (open > 0)
            nanosleep(&(struct timespec){0, 100 * 1000000L}, NULL);
    }
    int failed = 0;
    for (int i = 0; i < n; i++) {
        cJSON *job = NULL;
        if (qc_client_wait(client, id_list[i], 1000, &job, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", id_list[i], err);
            failed++;
        } else if (strcmp(cJSON_GetObjectItem(job, "state")->valuestring, "completed") != 0) {
            printf("failed: %s (%s) exit %d\n", id_list[i],
                   cJSON_GetObjectItem(job, "command")->valuestring,
                   cJSON_GetObjectItem(job, "exit_code")->valueint);
            failed++;
        }
        cJSON_Delete(job);
    }
    free(id_list);
    printf("%d jobs, %d completed, %d failed\n", count, count - failed, failed);
    cJSON_Delete(ids);
    qc_client_destroy(&client);
    return 0;
}
