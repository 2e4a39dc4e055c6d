/* Shared pieces of the queuectl CLI: the broker connection, exit codes,
 * output helpers and background process management. */
#ifndef QC_CTL_H
#define QC_CTL_H

#include <cjson/cJSON.h>
#include <stdio.h>

/* Exit codes (README "Exit codes"). */
#define QC_CTL_OK 0
#define QC_CTL_REFUSED 1 /* the broker said no: not found, duplicate, ... */
#define QC_CTL_USAGE 2   /* bad flags or input */
#define QC_CTL_NO_BROKER 3

typedef struct {
    char endpoint[1024];
    const char *endpoint_flag; /* --broker, or NULL */
    int json;                  /* --json */
    int timeout_ms;
    int autostart;          /* may start the local broker */
    const char *curve_key;  /* --curve-key: our secret cert for tcp endpoints */
    const char *server_key; /* --server-key: the broker's public cert or key */
    int insecure;           /* --insecure: no CURVE (broker started --insecure) */
} qc_ctl_t;

/* Resolves the endpoint (flag, QUEUECTL_BROKER, default). 0 or QC_CTL_USAGE. */
int qc_ctl_resolve(qc_ctl_t *ctl);

/* Sends request (taken) and returns an exit code; on QC_CTL_OK *reply is the
 * broker's successful reply (caller owns). Errors are printed on stderr. */
int qc_ctl_call(qc_ctl_t *ctl, cJSON *request, cJSON **reply);

/* Starts the local broker in the background if none answers and ctl->autostart
 * allows it (default endpoint only). Returns an exit code. */
int qc_ctl_ensure_broker(qc_ctl_t *ctl);

/* The broker's own endpoint named which ("worker_endpoint", "events_endpoint")
 * from its ping reply, with a wildcard host replaced by the one we reached it
 * by. Returns an exit code. */
int qc_ctl_broker_endpoint(qc_ctl_t *ctl, const char *which, char *buf, size_t len);

/* Matches "--name VALUE" or "--name=VALUE" at argv[*i]: 1 on a match (*i
 * advanced past the value; *value NULL if it is missing), else 0. */
int qc_ctl_flag_value(int argc, char **argv, int *i, const char *name, const char **value);
/* Flags every command takes (--json, --no-color, --broker): 1 if argv[*i]
 * was one, with *rc an exit code on a bad value (else 0). */
int qc_ctl_common_flag(qc_ctl_t *ctl, int argc, char **argv, int *i, int *rc);

/* Usage error: prints "queuectl: <msg>" and returns QC_CTL_USAGE. */
int qc_ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Output. */
void qc_out_json(const cJSON *value); /* pretty JSON and a newline on stdout */
int qc_out_color(void);               /* stdout is a terminal and colors are allowed */
void qc_out_no_color(void);           /* --no-color */
const char *qc_out_state_color(const char *state);
const char *qc_out_reset(void);
/* Prints rows of cells as an aligned table (header row first). */
void qc_out_table(const char *const *header, int columns, const char *const *cells, int rows);
/* "12s ago" style for an ISO time, into buf. */
const char *qc_out_ago(const char *iso, char *buf, size_t len);

/* Background processes (spawn.c). */
/* Path of a sibling program (queuectl-broker, queuectl-worker) into buf. */
int qc_spawn_program_path(const char *name, char *buf, size_t len);
/* Starts argv detached (new session, stdin /dev/null, output appended to log_path).
 * Returns the child's pid or -1. */
int qc_spawn_detached(char *const argv[], const char *log_path);
/* Non-zero while pid is alive (reaps it if it was our child and exited). */
int qc_spawn_alive(int pid);
/* Reads a pid from a pid file; 0 if absent or not running. */
int qc_spawn_read_pid(const char *path);

/* Commands (commands.c). Each returns an exit code. */
int qc_cmd_enqueue(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_status(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_list(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_show(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_dlq(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_config(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_worker(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_broker(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_keygen(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_dashboard(qc_ctl_t *ctl, int argc, char **argv); /* dashboard.c */
int qc_cmd_cancel(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_prune(qc_ctl_t *ctl, int argc, char **argv);
/* live.c: commands that follow the broker's events */
int qc_cmd_events(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_logs(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_wait(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_watch(qc_ctl_t *ctl, int argc, char **argv);
/* Waits for ids[count] to finish (progress bar on a TTY if show_progress).
 * Sets *dead to how many ended dead or canceled. Returns an exit code. */
int qc_wait_for(qc_ctl_t *ctl, const char *const *ids, int count, int show_progress, int *dead);

#endif
