/* Example for libqueuectl: push N jobs, wait for them, print the failures.
 *
 *   cc push_and_wait.c $(pkg-config --cflags --libs queuectl) -o push_and_wait
 *   ./push_and_wait 1000
 */
#include <queuectl/client.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    int failed = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids)
    {
        cJSON *job = NULL;
        if (qc_client_wait(client, id->valuestring, 60000, &job, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", id->valuestring, err);
            failed++;
        } else if (strcmp(cJSON_GetObjectItem(job, "state")->valuestring, "completed") != 0) {
            printf("failed: %s (%s) exit %d\n", id->valuestring,
                   cJSON_GetObjectItem(job, "command")->valuestring,
                   cJSON_GetObjectItem(job, "exit_code")->valueint);
            failed++;
        }
        cJSON_Delete(job);
    }
    printf("%d jobs, %d completed, %d failed\n", count, count - failed, failed);
    cJSON_Delete(ids);
    qc_client_destroy(&client);
    return 0;
}
