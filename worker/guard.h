/* The guard: a tiny child process that outlives the worker just long enough
 * to kill the job process groups the worker left behind. The worker tells it
 * "+PGID" when a job starts and "-PGID" when it ends; when the pipe reaches
 * EOF (the worker exited or was SIGKILLed) the guard SIGKILLs every group
 * still registered and exits. */
#ifndef QC_GUARD_H
#define QC_GUARD_H

#include <sys/types.h>

typedef struct _qc_guard_t qc_guard_t;

/* Forks the guard. Call before any thread exists (before the first ZeroMQ
 * socket): the child keeps running code of this process. Returns NULL on
 * failure. */
qc_guard_t *qc_guard_new(void);

/* Closes the pipe, so the guard kills any group still registered and exits,
 * and reaps it. Accepts NULL; nulls the caller's pointer. */
void qc_guard_destroy(qc_guard_t **self_p);

/* Registers / unregisters a job's process group. Return 0, or -1 if the
 * guard could not be told (it died, or its pipe is full). A removal is held
 * back and told with the next registration, or by qc_guard_tick within a
 * second: one write (one wake-up of the guard) a job instead of two. Holding
 * it is safe: the group's leader is reaped, and its pgid cannot be reused
 * for another group before the kernel wraps around every pid. */
int qc_guard_add(qc_guard_t *self, pid_t pgid);
int qc_guard_remove(qc_guard_t *self, pid_t pgid);

/* Tells removals held back for a second or more (call from the loop). */
void qc_guard_tick(qc_guard_t *self);

/* Reaps the guard if it has died (call on SIGCHLD). Returns 1 while it runs,
 * 0 once it is gone. */
int qc_guard_alive(qc_guard_t *self);

/* The guard's pid (for tests and logs). */
pid_t qc_guard_pid(qc_guard_t *self);

#endif
