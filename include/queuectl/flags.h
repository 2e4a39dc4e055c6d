/* The one flag parser of every program and subcommand (queuectl and its
 * commands, queuectl-broker, queuectl-worker): a thin layer over getopt_long.
 *
 * - "--name VALUE" and "--name=VALUE"; "-x" for flags with a short name;
 * - flags before or after the arguments, unless ends_flags says an argument
 *   ends them (enqueue's command words); "--" always ends them;
 * - a negative number ("-1") is an argument or a value, never a flag;
 * - names are spelled out: getopt_long's abbreviations ("--con" for
 *   "--concurrency") are refused as unknown options;
 * - given several tables, the first one that names a flag wins, so a
 *   command's own flag shadows a global one of the same name. */
#ifndef QC_FLAGS_H
#define QC_FLAGS_H

#include <stddef.h>

typedef struct {
    const char *name; /* long name without "--"; NULL ends a table */
    char short_name;  /* 'f' for -f, or 0 */
    int takes_value;  /* 1: --name VALUE or --name=VALUE */
} qc_flag_t;

typedef struct _qc_flags_t qc_flags_t;

/* Parses argv[1..argc-1] against tables (a NULL-terminated array of
 * tables). argv is not modified. ends_flags (may be NULL) is asked about
 * each argument: non-zero makes it and everything after it arguments.
 * Returns a new object (caller owns; destroy with qc_flags_destroy), or NULL
 * with err saying which flag is wrong ("unknown option \"--x\"",
 * "--count needs a value", "--json takes no value"). */
qc_flags_t *qc_flags_parse(const qc_flag_t *const *tables, int argc, char **argv,
                           int (*ends_flags)(const char *arg), char *err, size_t errlen);

void qc_flags_destroy(qc_flags_t **self_p);

/* How many times the flag named name was given (0 if not). */
int qc_flags_count(const qc_flags_t *self, const char *name);

/* The value of the last --name given, or NULL if it was not given. Points
 * into argv. */
const char *qc_flags_value(const qc_flags_t *self, const char *name);

/* The index-th value (0 first) given for a repeatable --name, in the order
 * given, or NULL past the last. Points into argv. */
const char *qc_flags_value_at(const qc_flags_t *self, const char *name, int index);

/* The arguments that are not flags, in order. qc_flags_arg returns NULL
 * past the end. The array from qc_flags_args is NULL-terminated and owned
 * by self; its strings point into argv. */
int qc_flags_argc(const qc_flags_t *self);
const char *qc_flags_arg(const qc_flags_t *self, int index);
char **qc_flags_args(const qc_flags_t *self);

/* Non-zero if name is in table. */
int qc_flags_table_has(const qc_flag_t *table, const char *name);

#endif
