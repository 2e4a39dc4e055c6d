/* Unit tests: job validation and the worker-protocol codec. */
#include "check.h"
#include "queuectl/job.h"
#include "queuectl/proto.h"

#include <string.h>

static int s_parse(const char *text, char *err, size_t errlen)
{
    cJSON *obj = cJSON_Parse(text);
    qc_job_spec_t spec;
    int rc = qc_job_spec_from_json(obj, &spec, err, errlen);
    qc_job_spec_clear(&spec);
    cJSON_Delete(obj);
    return rc;
}

/* The job is refused and the message mentions needle. */
#define REFUSED(text, needle)                                                                      \
    do {                                                                                           \
        char err_[256] = "";                                                                       \
        CHECK(s_parse(text, err_, sizeof err_) == -1);                                             \
        CHECK(strstr(err_, needle) != NULL);                                                       \
    } while (0)

int main(void)
{
    char err[256];
    cJSON *obj = cJSON_Parse("{\"id\":\"job1\",\"command\":\"echo hi\",\"max_retries\":3,"
                             "\"priority\":\"high\",\"timeout_s\":30,\"delay_s\":1.5}");
    qc_job_spec_t spec;
    CHECK(qc_job_spec_from_json(obj, &spec, err, sizeof err) == 0);
    CHECK(strcmp(spec.id, "job1") == 0 && strcmp(spec.command, "echo hi") == 0);
    CHECK(spec.max_retries == 3 && spec.priority == 10 && spec.timeout_s == 30);
    CHECK(spec.delay_ms == 1500);
    cJSON *back = qc_job_spec_to_json(&spec);
    CHECK(strcmp(cJSON_GetObjectItem(back, "command")->valuestring, "echo hi") == 0);
    cJSON_Delete(back);
    qc_job_spec_clear(&spec);
    cJSON_Delete(obj);

    CHECK(s_parse("{\"command\":\"true\"}", err, sizeof err) == 0);
    REFUSED("{}", "command is missing");
    CHECK(s_parse("{\"command\":\"x\",\"env\":{\"A_1\":\"v\",\"_b\":\"\"},\"cwd\":\"/tmp\"}", err,
                  sizeof err) == 0);
    REFUSED("{\"command\":\"x\",\"env\":{\"1A\":\"v\"}}", "env name \"1A\" is invalid");
    REFUSED("{\"command\":\"x\",\"env\":{\"QUEUECTL_X\":\"v\"}}", "is reserved");
    REFUSED("{\"command\":\"x\",\"env\":{\"A\":null}}", "env value of A must be a string");
    REFUSED("{\"command\":\"x\",\"env\":\"A=1\"}", "env must be an object");
    REFUSED("{\"command\":\"x\",\"cwd\":\"tmp\"}", "cwd must be an absolute");
    REFUSED("{\"command\":\"\"}", "command is empty");
    REFUSED("{\"command\":\"   \"}", "command is empty");
    REFUSED("{\"command\":42}", "command must be a string");
    REFUSED("{\"command\":\"x\",\"max_retries\":-1}", "max_retries");
    REFUSED("{\"command\":\"x\",\"max_retries\":1.5}", "max_retries");
    REFUSED("{\"command\":\"x\",\"max_retries\":\"3\"}", "max_retries");
    REFUSED("{\"command\":\"x\",\"id\":\"a b\"}", "id");
    REFUSED("{\"command\":\"x\",\"id\":\"-x\"}", "id");
    REFUSED("{\"command\":\"x\",\"id\":\"\"}", "id");
    REFUSED("{\"command\":\"x\",\"id\":7}", "id must be a string");
    REFUSED("{\"command\":\"x\",\"priority\":\"urgent\"}", "priority");
    REFUSED("{\"command\":\"x\",\"timeout_s\":0}", "timeout_s");
    REFUSED("{\"command\":\"x\",\"delay_s\":-1}", "delay_s");
    REFUSED("{\"command\":\"x\",\"run_at\":\"soon\"}", "run_at");
    REFUSED("{\"command\":\"x\",\"colour\":1}", "unknown field \"colour\"");
    REFUSED("[1]", "object");

    char long_id[QC_MAX_ID_BYTES + 2];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    CHECK(!qc_job_id_valid(long_id));
    long_id[QC_MAX_ID_BYTES] = '\0';
    CHECK(qc_job_id_valid(long_id));

    /* Parser limits: depth, UTF-8, trailing data. */
    cJSON *small = qc_json_parse_object("{\"a\":1}", 7, err, sizeof err);
    CHECK(small != NULL);
    cJSON_Delete(small);
    char deep[256] = "{\"a\":";
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    CHECK(qc_json_parse_object(deep, strlen(deep), err, sizeof err) == NULL);
    CHECK(strstr(err, "deeper") != NULL);
    CHECK(qc_json_parse_object("{\"a\":\"\xff\"}", 9, err, sizeof err) == NULL);
    CHECK(qc_json_parse_object("{} x", 4, err, sizeof err) == NULL);
    CHECK(qc_json_parse_object("[]", 2, err, sizeof err) == NULL);

    return 0;
}
