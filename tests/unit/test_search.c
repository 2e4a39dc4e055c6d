/* Unit tests: the store's search and many-ids lookups (list with q, states)
 * against a real database file. */
#include "check.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void s_insert(qc_store_t *store, const char *id, const char *command, int64_t now)
{
    qc_config_t config;
    qc_config_defaults(&config);
    qc_job_spec_t spec;
    qc_job_spec_init(&spec);
    snprintf(spec.id, sizeof spec.id, "%s", id);
    spec.command = strdup(command);
    char out[QC_MAX_ID_BYTES + 1];
    CHECK(qc_store_job_insert(store, &spec, &config, now, out) == 0);
    qc_job_spec_clear(&spec);
}

static int s_ids_are(const cJSON *jobs, const char *expected)
{
    char got[512] = "";
    for (const cJSON *job = jobs->child; job; job = job->next) {
        strcat(got, got[0] ? " " : "");
        strcat(got, cJSON_GetObjectItem(job, "id")->valuestring);
    }
    if (strcmp(got, expected) != 0)
        fprintf(stderr, "got \"%s\", expected \"%s\"\n", got, expected);
    return strcmp(got, expected) == 0;
}

int main(void)
{
    char dir[] = "/tmp/qc-search-XXXXXX", path[256], err[256];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/q.db", dir);
    qc_store_t *store = qc_store_open(path, 0, err, sizeof err);
    CHECK(store != NULL);
    int64_t now = 1000000;
    CHECK(qc_store_begin(store) == 0);
    s_insert(store, "deploy-1", "make deploy", now);
    s_insert(store, "build-1", "make BUILD", now);
    s_insert(store, "build-2", "echo hi", now);
    s_insert(store, "other", "echo build log", now);
    s_insert(store, "last", "true", now);
    CHECK(qc_store_commit(store) == 0);

    /* id or command, case-insensitive, newest first */
    qc_store_search_t search = {.state = -1, .text = "build", .limit = 10, .max_scan = 100};
    int64_t next = -1;
    int scanned = 0;
    cJSON *jobs = qc_store_job_search(store, &search, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, "other build-2 build-1") && next == 0 && scanned == 5);
    cJSON_Delete(jobs);

    /* a full page of matches: the cursor goes on below the last match */
    search.limit = 2;
    jobs = qc_store_job_search(store, &search, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, "other build-2") && next > 0);
    cJSON_Delete(jobs);
    search.cursor = next;
    jobs = qc_store_job_search(store, &search, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, "build-1") && next == 0);
    cJSON_Delete(jobs);

    /* the scan is bounded: no match in the first 2 jobs, but a cursor */
    qc_store_search_t bounded = {.state = -1, .text = "deploy", .limit = 5, .max_scan = 2};
    jobs = qc_store_job_search(store, &bounded, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, "") && scanned == 2 && next > 0);
    cJSON_Delete(jobs);
    bounded.max_scan = 100;
    bounded.cursor = next;
    jobs = qc_store_job_search(store, &bounded, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, "deploy-1") && scanned == 3 && next == 0);
    cJSON_Delete(jobs);

    /* skip_id leaves a job out; a state filter applies */
    qc_store_search_t skip = {
        .state = -1, .text = "build-1", .skip_id = "build-1", .limit = 5, .max_scan = 100};
    jobs = qc_store_job_search(store, &skip, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, ""));
    cJSON_Delete(jobs);
    qc_store_search_t dead = {.state = QC_STATE_DEAD, .text = "build", .limit = 5, .max_scan = 100};
    jobs = qc_store_job_search(store, &dead, &next, &scanned);
    CHECK(jobs && s_ids_are(jobs, "") && scanned == 0);
    cJSON_Delete(jobs);

    /* states: one entry per id, in order, null for an unknown one; brief */
    const char *ids[] = {"build-2", "ghost", "deploy-1"};
    cJSON *states = cJSON_CreateArray();
    CHECK(qc_store_job_states(store, ids, 3, states) == 0);
    CHECK(s_ids_are(states, "build-2 ghost deploy-1"));
    CHECK(strcmp(cJSON_GetArrayItem(states, 0)->child->next->valuestring, "pending") == 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(states, 1), "state")));
    CHECK(!cJSON_GetObjectItem(cJSON_GetArrayItem(states, 0), "command"));
    cJSON_Delete(states);
    cJSON *brief = qc_store_job_brief(store, "build-1");
    CHECK(brief && !cJSON_GetObjectItem(brief, "stdout_tail") &&
          strcmp(cJSON_GetObjectItem(brief, "command")->valuestring, "make BUILD") == 0);
    cJSON_Delete(brief);
    CHECK(qc_store_job_brief(store, "ghost") == NULL);

    qc_store_destroy(&store);
    char command[512];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
    return 0;
}
