/* The broker's event loop and sockets. */
#ifndef QC_SERVER_H
#define QC_SERVER_H

#include <stdint.h>

/* Exit codes of queuectl-broker (listed in README). */
#define QC_EXIT_OK 0
#define QC_EXIT_RUNTIME 1
#define QC_EXIT_USAGE 2
#define QC_EXIT_DATABASE 3
#define QC_EXIT_LOCKED 4
#define QC_EXIT_BIND 5
#define QC_EXIT_DB_UNREACHABLE 6 /* PostgreSQL: server down or unreachable */
#define QC_EXIT_DB_AUTH 7        /* PostgreSQL: password/authentication refused */
#define QC_EXIT_DB_MISSING 8     /* PostgreSQL: no such database */
#define QC_EXIT_DB_URI 9         /* not a valid connection URI */
/* Internal: lost the lease; main runs the broker again, as a passive one. */
#define QC_EXIT_STEPPED_DOWN 10

typedef struct {
    char db_path[4096];
    char pid_path[4096]; /* "" for none */
    char worker_endpoint[1024];
    char client_endpoint[1024];
    char events_endpoint[1024]; /* "" for none */
    int synchronous_full;
    int insecure;              /* allow TCP without authentication */
    char authorized_dir[4096]; /* authorized/{workers,clients}/ *.cert */
    int64_t heartbeat_ms;
    int64_t liveness_ms; /* also the PostgreSQL lease */
    int keep_trying;     /* wait for an unreachable database (after stepping down) */
} qc_server_options_t;

/* Runs until SIGTERM/SIGINT. Returns one of the QC_EXIT_ codes. */
int qc_server_run(const qc_server_options_t *options);

#endif
