/* The process runner: runs each job as /bin/sh -c COMMAND in its own process
 * group, captures the tail of its stdout and stderr in fixed ring buffers,
 * enforces its timeout and turns its end into a qc_result_t. It knows nothing
 * of sockets: the caller polls the fds it exposes, forwards SIGCHLD and timer
 * ticks, and takes finished results. Single-threaded. */
#ifndef QC_RUNNER_H
#define QC_RUNNER_H

#include <cjson/cJSON.h>
#include <poll.h>
#include <stdint.h>
#include <zmq.h>

#include "guard.h"
#include "queuectl/proto.h"

typedef struct _qc_runner_t qc_runner_t;

/* Grace between SIGTERM and SIGKILL after a timeout or a cancel. */
#define QC_RUNNER_GRACE_MS 2000

/* A runner with `slots` slots (1..QC_MAX_SLOTS); output buffers are
 * allocated here, once. guard may be NULL; it is not owned and must outlive
 * the runner. Returns NULL on failure. */
qc_runner_t *qc_runner_new(int slots, qc_guard_t *guard);

/* SIGKILLs and reaps whatever still runs, frees all. Accepts NULL; nulls the
 * caller's pointer. */
void qc_runner_destroy(qc_runner_t **self_p);

/* A job to run; nothing in it is taken (the runner copies what it keeps). */
typedef struct {
    const char *id;
    int attempt;
    const char *command;
    int timeout_s;
    const cJSON *env;      /* {"NAME":"value",...} over the worker's environment, or NULL */
    const char *cwd;       /* directory to run in, or NULL for the worker's */
    const char *queue;     /* QUEUECTL_QUEUE; NULL means "default" */
    const char *worker_id; /* QUEUECTL_WORKER_ID; NULL means "" */
} qc_runner_job_t;

/* Starts a job with the worker's environment, then job->env, then
 * QUEUECTL_JOB_ID, QUEUECTL_ATTEMPT, QUEUECTL_QUEUE and QUEUECTL_WORKER_ID.
 * Returns 0 if it runs, or -1 if it could not start: then a result is
 * queued instead (not_started for no free slot, spawn_failed for a missing
 * working directory or a fork/pipe/exec failure). Either way exactly one
 * result for (id, attempt) will come out of qc_runner_take_result. */
int qc_runner_start(qc_runner_t *self, const qc_runner_job_t *job);

/* Queues a spawn_failed result for a job that cannot run (a bad JOB). */
void qc_runner_reject(qc_runner_t *self, const char *id, int attempt, const char *error);
/* Queues a not_started result for a job this worker will not run (shutting
 * down, no free slot): not the job's fault, so not counted against it. */
void qc_runner_refuse(qc_runner_t *self, const char *id, int attempt, const char *error);

/* Fills items (at most 2 x slots) with the output pipes to watch for
 * POLLIN. Returns how many it filled. */
int qc_runner_poll_items(qc_runner_t *self, struct pollfd *items, int max);
/* Most items qc_runner_poll_items can fill. */
int qc_runner_poll_max(qc_runner_t *self);

/* Reads what is available on fd (one of the polled pipes) into its ring. */
void qc_runner_on_readable(qc_runner_t *self, int fd);

/* Reaps ended jobs (call on SIGCHLD; spurious calls are harmless) and queues
 * their results. Only the runner's own children are waited for, so other
 * children (the guard) are left alone. Returns how many ended. */
int qc_runner_on_sigchld(qc_runner_t *self);

/* Earliest timeout or grace deadline, in qc_clock_mono_ms() time, or -1 if
 * there is none. */
int64_t qc_runner_next_deadline_ms(qc_runner_t *self);

/* Acts on deadlines at or before now_ms (mono): SIGTERM at the timeout,
 * SIGKILL after the grace. */
void qc_runner_on_timer(qc_runner_t *self, int64_t now_ms);

/* SIGTERMs (then, after the grace, SIGKILLs) that run; it will be reported
 * canceled. Returns 0, or -1 if no such run is going on. */
int qc_runner_cancel(qc_runner_t *self, const char *id, int attempt);

/* SIGKILLs every running job; each will be reported killed, "worker shut
 * down", once reaped. Returns how many were running. */
int qc_runner_kill_all(qc_runner_t *self);

/* Number of busy slots, and of slots. */
int qc_runner_busy(qc_runner_t *self);
int qc_runner_slots(qc_runner_t *self);

/* True if (id, attempt) is running here. */
int qc_runner_is_running(qc_runner_t *self, const char *id, int attempt);

/* Fills runs[max] with the running jobs (ids point into the runner: valid
 * until the next call that starts or ends a job). Returns how many. */
int qc_runner_running(qc_runner_t *self, qc_wmsg_run_t *runs, int max);

/* Live output: fn(arg, id, attempt, "stdout"|"stderr", data) gets what a
 * running job wrote since the last call (valid UTF-8, at most 64 KiB), at
 * most every QC_RUNNER_OUTPUT_MS per job and once more when it ends. */
#define QC_RUNNER_OUTPUT_MS 100
typedef void(qc_runner_output_fn)(void *arg, const char *id, int attempt, const char *stream,
                                  const char *data);
void qc_runner_set_output(qc_runner_t *self, qc_runner_output_fn *fn, void *arg);
/* Calls the output callback for jobs whose last flush is old enough. */
void qc_runner_flush_output(qc_runner_t *self, int64_t now_ms);

/* Moves the oldest finished result into *result (caller clears it with
 * qc_result_clear) and returns 0, or returns -1 if there is none. */
int qc_runner_take_result(qc_runner_t *self, qc_result_t *result);

#endif
