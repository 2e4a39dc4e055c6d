/* The worker protocol's codec (PROTOCOL.md 3): every message both ways as a
 * qc_wmsg_t, one framing (header, command, optional JSON body), and the
 * RESULT body as a qc_result_t. The broker (wrkcmd.c) and the worker
 * (session.c) build and read messages only through this. */
#ifndef QC_PROTO_H
#define QC_PROTO_H

#include <cjson/cJSON.h>
#include <czmq.h>
#include <stdint.h>

#include "queuectl/json.h"
#include "queuectl/protocol.h"

/* The outcome of one attempt, as the worker reports it. */
typedef struct {
    char id[QC_MAX_ID_BYTES + 1];
    int attempt;
    qc_outcome_t outcome;
    int exit_code; /* -1 if it did not exit normally */
    int signal;    /* 0 if not killed by a signal */
    int64_t started_at_ms;
    int64_t finished_at_ms;
    int64_t cpu_ms;
    int64_t max_rss_kb;
    char error[256];   /* "" if none */
    char *stdout_tail; /* owned, may be NULL */
    char *stderr_tail; /* owned, may be NULL */
} qc_result_t;

void qc_result_init(qc_result_t *result);
void qc_result_clear(qc_result_t *result);
/* Caller owns the returned object. */
cJSON *qc_result_to_json(const qc_result_t *result);
/* Returns 0, or -1 with the reason in err. */
int qc_result_from_json(const cJSON *obj, qc_result_t *result, char *err, size_t errlen);

/* Every message of the worker protocol. */
typedef enum {
    QC_WMSG_UNKNOWN = 0,
    /* worker -> broker */
    QC_WMSG_HELLO,
    QC_WMSG_STARTED,
    QC_WMSG_RESULT,
    QC_WMSG_OUTPUT,
    QC_WMSG_STOPPING,
    QC_WMSG_BYE,
    /* both ways */
    QC_WMSG_HEARTBEAT,
    /* broker -> worker */
    QC_WMSG_WELCOME,
    QC_WMSG_JOB,
    QC_WMSG_ACK,
    QC_WMSG_CANCEL,
    QC_WMSG_STOP,
    QC_WMSG_RESET,
    QC_WMSG_COUNT
} qc_wmsg_type_t;

/* A run: a job and its attempt (run number). */
typedef struct {
    const char *id;
    int attempt;
} qc_wmsg_run_t;

/* HELLO: who the worker is and the runs the broker must not give up. */
typedef struct {
    const char *worker_id;
    const char *instance; /* QC_INSTANCE_HEX lowercase hex digits */
    const char *host;
    const char *version; /* may be NULL when decoded */
    int pid;
    int slots;
    int stopping;
    const qc_wmsg_run_t *running; /* shells going: at most slots */
    int running_count;
    const qc_wmsg_run_t *finished; /* results not yet acknowledged */
    int finished_count;
    /* The queues it serves, "a,b" in preference order (checked with
     * qc_queue_list_parse when decoded), or NULL for every queue. */
    const char *queues;
    char queues_text[QC_QUEUE_LIST_BYTES]; /* decoded: what queues points at */
} qc_wmsg_hello_t;

/* One message. To encode, set type and the fields of that type (strings are
 * not copied). A decoded message's strings point into its body: they live
 * until qc_wmsg_clear. */
typedef struct {
    qc_wmsg_type_t type;
    /* Decoded: 1 if the body has every field its type needs, well-typed and
     * in range; else 0 and error says what is wrong ("no body" when absent).
     * Fields that could be read are filled either way. */
    int valid;
    char error[128];
    cJSON *body;       /* decoded: the JSON body as sent, or NULL; owned */
    qc_wmsg_run_t run; /* STARTED, OUTPUT, JOB, ACK, CANCEL: id NULL if invalid */
    union {
        qc_wmsg_hello_t hello;
        qc_result_t result; /* RESULT (its tails owned) */
        struct {
            int64_t started_at_ms;
        } started;
        struct {
            const char *stream; /* "stdout" or "stderr" */
            const char *data;
        } output;
        struct {
            const char *worker_id; /* the name registered: NULL if not a valid id */
            int has_heartbeat_ms;
            int64_t heartbeat_ms;
            int has_liveness_ms;
            int64_t liveness_ms;
        } welcome;
        struct {
            const char *command; /* NULL if missing, empty or too long */
            int64_t timeout_s;   /* 0 if missing or out of range */
            const cJSON *env;    /* {"NAME":"value"} or NULL (points into body) */
            const char *cwd;     /* absolute, or NULL */
            const char *queue;   /* a valid name, or NULL */
            /* decoded: why env, cwd or queue is unusable ("invalid JOB: bad
             * env"), or NULL; the run is then refused, not the message */
            const char *refusal;
        } job;
    };
} qc_wmsg_t;

/* The command name of type on the wire (a QC_W_ or QC_B_ string), or NULL. */
const char *qc_wmsg_command(qc_wmsg_type_t type);

/* Encodes msg into frames: header, command, body if the type has one.
 * Caller owns; NULL if out of memory. */
zmsg_t *qc_wmsg_encode(const qc_wmsg_t *msg);

/* Encodes msg and sends it on sock. Returns 0, or -1 (errno from libzmq). */
int qc_wmsg_send(void *sock, const qc_wmsg_t *msg);

/* Decodes frames (any routing frame already popped) into *msg, which the
 * caller clears with qc_wmsg_clear whatever the result. Returns 0 for a
 * known command with a body that is a JSON object (or none): msg->valid
 * then says if the body is what its type needs. Returns -2 for a malformed
 * message (wrong frame count or header, unknown command, a body that is not
 * a JSON object within the limits) with the reason in err. */
int qc_wmsg_decode(zmsg_t *frames, qc_wmsg_t *msg, char *err, size_t errlen);

/* Frees what a decoded message owns and zeroes it. Accepts a zeroed one. */
void qc_wmsg_clear(qc_wmsg_t *msg);

#endif
