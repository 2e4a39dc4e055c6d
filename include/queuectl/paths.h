/* QUEUECTL_HOME and the default local endpoints inside it. */
#ifndef QC_PATHS_H
#define QC_PATHS_H

#include <stddef.h>

/* QUEUECTL_HOME, or ~/.queuectl. Creates it with mode 0700 if missing.
 * Returns a static string, or NULL (with a logged reason) if unusable. */
const char *qc_home(void);

/* Writes "<home>/<name>" into buf. Returns 0, or -1 if it doesn't fit. */
int qc_home_path(char *buf, size_t len, const char *name);

/* Default ipc endpoints for workers and clients inside the home.
 * Return 0, or -1 if the path is too long for an ipc socket (107 bytes). */
int qc_default_worker_endpoint(char *buf, size_t len);
int qc_default_client_endpoint(char *buf, size_t len);
int qc_default_events_endpoint(char *buf, size_t len);

/* The broker endpoint a client or worker should use: the flag if given,
 * else QUEUECTL_BROKER (clients) / QUEUECTL_WORKER_BROKER (workers), else
 * the endpoint this home joined (queuectl/join.h), else the default.
 * Returns 0 or -1. */
int qc_client_endpoint(const char *flag, char *buf, size_t len);
int qc_worker_endpoint(const char *flag, char *buf, size_t len);

/* True if the endpoint is the default local one (the CLI may start a broker). */
int qc_endpoint_is_default_client(const char *endpoint);

#endif
