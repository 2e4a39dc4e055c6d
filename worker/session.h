/* The worker's session with the broker (worker protocol, PROTOCOL.md 3): a
 * DEALER socket, HELLO on every (re)connect, heartbeats both ways, reconnect
 * with backoff when the broker falls silent, results kept until ACKed, and
 * the main loop that also drives the runner and the signals. */
#ifndef QC_SESSION_H
#define QC_SESSION_H

#include "guard.h"
#include "runner.h"

typedef struct _qc_session_t qc_session_t;

/* Blocks SIGCHLD, SIGTERM and SIGINT (the session reads them from a
 * signalfd) and ignores SIGPIPE. Call first in main, before the guard and
 * before any thread exists, so every thread inherits the mask. Returns 0/-1. */
int qc_session_prepare_signals(void);

/* CURVE settings for a network endpoint (see queuectl/curve.h); NULLs mean
 * the defaults in QUEUECTL_HOME. Strings are not copied: keep them alive. */
typedef struct {
    const char *key_path;
    const char *server_key;
    int insecure;
} qc_session_security_t;

/* What a session is made of. Strings are copied; runner and guard (may be
 * NULL) are not owned and must outlive the session. */
typedef struct {
    const char *endpoint;
    const char *name;   /* the worker id, or NULL for "<host>-<pid>-<hex>" */
    const char *queues; /* "a,b" (checked by qc_queue_list_parse), NULL for every queue */
    qc_runner_t *runner;
    qc_guard_t *guard;
    const qc_session_security_t *security; /* may be NULL */
} qc_session_config_t;

/* Connects to the endpoint and sends HELLO. Returns NULL on failure (logged). */
qc_session_t *qc_session_new(const qc_session_config_t *config);

/* Closes the socket and frees all. Accepts NULL; nulls the caller's pointer. */
void qc_session_destroy(qc_session_t **self_p);

/* Runs until stopped (STOP, SIGTERM, SIGINT). Returns the exit status: 0
 * after a graceful stop, 1 if a second signal killed running jobs or the
 * loop failed. */
int qc_session_run(qc_session_t *self);

/* The worker id in use. */
const char *qc_session_worker_id(qc_session_t *self);

#endif
