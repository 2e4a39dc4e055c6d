/* Shared pieces of the queuectl CLI: the command context with its one
 * broker client, exit codes, flags, output helpers and background process
 * management. Each command family lives in its own cmd_*.c file. */
#ifndef QC_CTL_H
#define QC_CTL_H

#include "queuectl/client.h"
#include "queuectl/flags.h"

#include <cjson/cJSON.h>
#include <stdio.h>

/* Exit codes (README "Exit codes"). */
#define QC_CTL_OK 0
#define QC_CTL_REFUSED 1 /* the broker said no: not found, duplicate, ... */
#define QC_CTL_USAGE 2   /* bad flags or input */
#define QC_CTL_NO_BROKER 3
#define QC_CTL_TIMED_OUT 4 /* gave up waiting for processes to exit (worker/broker stop) */
#define QC_CTL_HELP (-1)   /* --help was printed: exit 0 (returned by qc_ctl_parse) */

typedef struct {
    char endpoint[1024];
    const char *endpoint_flag; /* --broker, or NULL */
    int json;                  /* --json */
    int timeout_ms;            /* --timeout: how long to wait for each reply */
    int autostart;             /* this command may start the local broker (default endpoint) */
    int no_autostart;          /* --no-autostart: no command may */
    const char *curve_key;     /* --curve-key: our secret cert for tcp endpoints */
    const char *server_key;    /* --server-key: the broker's public cert or key */
    int insecure;              /* --insecure: no CURVE (broker started --insecure) */
    const char *command;       /* "list", "worker stop": for messages */
    const char *help;          /* the command's --help text */
    qc_client_t *client;       /* the one client of this process (connect.c), or NULL */
} qc_ctl_t;

/* ---- Flags (options.c) --------------------------------------------------- */

/* The global flags (--broker, --json, --no-color, --timeout, --curve-key,
 * --server-key, --insecure, --no-autostart, --help), accepted before the command and after
 * it. */
extern const qc_flag_t qc_ctl_global_flags[];

/* Parses a command's argv (argv[0] is the command's name) against table and
 * the global flags (a flag in table shadows a global one of the same name),
 * and applies the global ones to ctl. ends_flags as for qc_flags_parse.
 * Returns QC_CTL_OK with *flags_out set (caller owns), QC_CTL_HELP after
 * printing ctl->help, or QC_CTL_USAGE after printing what is wrong. */
int qc_ctl_parse(qc_ctl_t *ctl, const qc_flag_t *table, int argc, char **argv,
                 int (*ends_flags)(const char *arg), qc_flags_t **flags_out);

/* The same for a command that takes no arguments and no flags of its own. */
int qc_ctl_parse_none(qc_ctl_t *ctl, int argc, char **argv);

/* Applies the global flags found in flags (those table does not shadow) to
 * ctl. Returns QC_CTL_OK or QC_CTL_USAGE. */
int qc_ctl_apply_globals(qc_ctl_t *ctl, const qc_flags_t *flags, const qc_flag_t *table);

/* Usage error: prints "queuectl: <msg>" and returns QC_CTL_USAGE. */
int qc_ctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- The broker connection (connect.c) ------------------------------------ */

/* Resolves the endpoint (flag, QUEUECTL_BROKER, default). 0 or QC_CTL_USAGE. */
int qc_ctl_resolve(qc_ctl_t *ctl);

/* A new request object {"op": op}. Caller owns. */
cJSON *qc_ctl_request(const char *op);

/* Sends request (taken) on the process's one client and returns an exit
 * code; on QC_CTL_OK *reply is the broker's successful reply (caller owns).
 * If nothing answers on the default local endpoint, no broker runs there and
 * ctl->autostart is set, starts one (saying so on stderr) and sends the
 * request to it. Errors are printed on stderr. */
int qc_ctl_call(qc_ctl_t *ctl, cJSON *request, cJSON **reply);
/* A list command without arguments: asks op and finds the array at key.
 * With --json it prints that array and sets *reply to NULL; otherwise the
 * caller prints *items and deletes *reply (which holds them). Returns the
 * exit status of parsing or calling, QC_CTL_OK otherwise. */
int qc_ctl_list(qc_ctl_t *ctl, int argc, char **argv, const char *op, const char *key,
                cJSON **reply, const cJSON **items);

/* The broker's own endpoint named which ("worker_endpoint", "events_endpoint")
 * from its ping reply, with a wildcard host replaced by the one we reached it
 * by. Returns an exit code. */
int qc_ctl_broker_endpoint(qc_ctl_t *ctl, const char *which, char *buf, size_t len);

/* Closes the process's client (at exit). */
void qc_ctl_close(qc_ctl_t *ctl);

/* ---- Output (output.c) ---------------------------------------------------- */

void qc_out_json(const cJSON *value);      /* pretty JSON and a newline on stdout */
void qc_out_json_line(const cJSON *value); /* compact JSON and a newline on stdout */
int qc_out_color(void);                    /* stdout is a terminal and colors are allowed */
void qc_out_no_color(void);                /* --no-color */
const char *qc_out_state_color(const char *state);
const char *qc_out_reset(void);
/* Prints rows of cells as an aligned table (header row first). */
void qc_out_table(const char *const *header, int columns, const char *const *cells, int rows);
/* The same, for a table printed in pieces: width[columns] carries the
 * column widths from one piece to the next (start with zeros); the header
 * is printed only if with_header. */
void qc_out_table_part(const char *const *header, int columns, const char *const *cells, int rows,
                       size_t *width, int with_header);
/* "12s ago" style for an ISO time, into buf. */
const char *qc_out_ago(const char *iso, char *buf, size_t len);
/* obj[key] if it is a string, else fallback. */
const char *qc_out_text(const cJSON *obj, const char *key, const char *fallback);

/* ---- Background processes (cmd_supervise.c) ------------------------------- */

/* Path of a sibling program (queuectl-broker, queuectl-worker) into buf. */
int qc_spawn_program_path(const char *name, char *buf, size_t len);
/* Starts argv detached (new session, stdin /dev/null, output appended to log_path).
 * Returns the child's pid or -1. */
int qc_spawn_detached(char *const argv[], const char *log_path);
/* Non-zero while pid is alive (reaps it if it was our child and exited; a
 * zombie counts as exited). */
int qc_spawn_alive(int pid);
/* The pid of the local broker from its pid file; 0 if absent or not running. */
int qc_spawn_broker_pid(void);

/* ---- Commands: each returns an exit code (or QC_CTL_HELP). ---------------- */

/* cmd_enqueue.c */
int qc_cmd_enqueue(qc_ctl_t *ctl, int argc, char **argv);
/* The flags of a job that enqueue and schedule add share (--queue,
 * --priority, --max-retries, --timeout, --env, --cwd, --retry-on-exit,
 * --no-retry-on-exit, --unique-key), and their application over a job
 * object's fields. Returns QC_CTL_OK or a usage error (printed). */
extern const qc_flag_t qc_job_flag_table[];
int qc_job_flags_apply(cJSON *job, const qc_flags_t *flags);
/* cmd_schedule.c */
int qc_cmd_schedule(qc_ctl_t *ctl, int argc, char **argv);
/* cmd_queue.c */
int qc_cmd_queue(qc_ctl_t *ctl, int argc, char **argv);
/* cmd_jobs.c: views of jobs and the changes to one job */
int qc_cmd_list(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_show(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_dlq(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_cancel(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_prune(qc_ctl_t *ctl, int argc, char **argv);
/* cmd_admin.c: the queue as a whole */
int qc_cmd_status(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_config(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_keygen(qc_ctl_t *ctl, int argc, char **argv);
/* cmd_keys.c: remote access (invites, joining, enrolled keys) */
int qc_cmd_invite(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_join(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_keys(qc_ctl_t *ctl, int argc, char **argv);
/* cmd_supervise.c: the broker and worker processes */
int qc_cmd_worker(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_broker(qc_ctl_t *ctl, int argc, char **argv);
/* cmd_live.c: commands that follow the broker's events */
int qc_cmd_events(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_logs(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_wait(qc_ctl_t *ctl, int argc, char **argv);
int qc_cmd_watch(qc_ctl_t *ctl, int argc, char **argv);
/* Waits for ids[count] to finish (progress bar on a TTY if show_progress).
 * Sets *dead to how many ended dead or canceled. Returns an exit code. */
int qc_wait_for(qc_ctl_t *ctl, const char *const *ids, int count, int show_progress, int *dead);
/* dashboard.c */
int qc_cmd_dashboard(qc_ctl_t *ctl, int argc, char **argv);

#endif
