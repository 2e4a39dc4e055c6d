/* One flag parser for every program and subcommand: getopt_long in
 * RETURN_IN_ORDER mode ("-" first in the option string), so arguments come
 * back in place and a command can end its flags at its first word. */
#include "queuectl/flags.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_VAL_BASE 256 /* getopt values of long options: S_VAL_BASE + index */

typedef struct {
    const qc_flag_t *flag;
    int count;
    const char *value;
} s_seen_t;

struct _qc_flags_t {
    s_seen_t *seen; /* one per distinct flag name over all tables */
    int seen_count;
    char **args; /* NULL-terminated; strings point into argv */
    int arg_count;
    /* Every value given, in order, for repeatable flags (--env A=1 --env B=2). */
    const s_seen_t **given_flag;
    const char **given_value;
    int given_count;
};

void qc_flags_destroy(qc_flags_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_flags_t *self = *self_p;
    free(self->seen);
    free(self->args);
    free(self->given_flag);
    free(self->given_value);
    free(self);
    *self_p = NULL;
}

int qc_flags_table_has(const qc_flag_t *table, const char *name)
{
    for (; table && table->name; table++)
        if (strcmp(table->name, name) == 0)
            return 1;
    return 0;
}

static s_seen_t *s_find(const qc_flags_t *self, const char *name)
{
    for (int i = 0; i < self->seen_count; i++)
        if (strcmp(self->seen[i].flag->name, name) == 0)
            return &self->seen[i];
    return NULL;
}

int qc_flags_count(const qc_flags_t *self, const char *name)
{
    s_seen_t *seen = s_find(self, name);
    return seen ? seen->count : 0;
}

const char *qc_flags_value(const qc_flags_t *self, const char *name)
{
    s_seen_t *seen = s_find(self, name);
    return seen ? seen->value : NULL;
}

const char *qc_flags_value_at(const qc_flags_t *self, const char *name, int index)
{
    s_seen_t *seen = s_find(self, name);
    for (int i = 0; seen && i < self->given_count; i++)
        if (self->given_flag[i] == seen && index-- == 0)
            return self->given_value[i];
    return NULL;
}

int qc_flags_argc(const qc_flags_t *self)
{
    return self->arg_count;
}

const char *qc_flags_arg(const qc_flags_t *self, int index)
{
    return index >= 0 && index < self->arg_count ? self->args[index] : NULL;
}

char **qc_flags_args(const qc_flags_t *self)
{
    return self->args;
}

/* "--name" or "--name=..." exactly: getopt_long also takes abbreviations. */
static int s_spelled_out(const char *text, const char *name)
{
    size_t len = strlen(name);
    return strncmp(text, "--", 2) == 0 && strncmp(text + 2, name, len) == 0 &&
           (text[2 + len] == '\0' || text[2 + len] == '=');
}

/* The argv string that copy_arg (an element of the copy) stands for. */
static char *s_original(char *copy_arg, int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (copy_arg == argv[i] + 1 && argv[i][0] == '-')
            return argv[i];
    return copy_arg;
}

qc_flags_t *qc_flags_parse(const qc_flag_t *const *tables, int argc, char **argv,
                           int (*ends_flags)(const char *arg), char *err, size_t errlen)
{
    qc_flags_t *self = calloc(1, sizeof *self);
    int total = 0;
    for (int t = 0; tables[t]; t++)
        for (const qc_flag_t *f = tables[t]; f->name; f++)
            total++;
    struct option *longopts = calloc((size_t)total + 1, sizeof *longopts);
    char *shortopts = calloc((size_t)total * 2 + 3, 1);
    char **copy = calloc((size_t)argc + 2, sizeof *copy);
    if (self) {
        self->seen = calloc((size_t)total + 1, sizeof *self->seen);
        self->args = calloc((size_t)argc + 1, sizeof *self->args);
        self->given_flag = calloc((size_t)argc + 1, sizeof *self->given_flag);
        self->given_value = calloc((size_t)argc + 1, sizeof *self->given_value);
    }
    if (!self || !longopts || !shortopts || !copy || !self->seen || !self->args ||
        !self->given_flag || !self->given_value) {
        snprintf(err, errlen, "out of memory");
        goto failed;
    }
    /* Merge the tables; the first to name a flag wins. */
    strcpy(shortopts, "-:");
    for (int t = 0; tables[t]; t++) {
        for (const qc_flag_t *f = tables[t]; f->name; f++) {
            if (s_find(self, f->name))
                continue;
            int n = self->seen_count++;
            self->seen[n].flag = f;
            longopts[n].name = f->name;
            longopts[n].has_arg = f->takes_value ? required_argument : no_argument;
            longopts[n].val = S_VAL_BASE + n;
            if (f->short_name) {
                size_t len = strlen(shortopts);
                shortopts[len] = f->short_name;
                if (f->takes_value)
                    shortopts[len + 1] = ':';
            }
        }
    }
    /* A negative number ("-1") is an argument or a value, never a flag:
     * getopt is shown it without its "-", and s_original puts it back. */
    copy[0] = argc > 0 ? argv[0] : "";
    for (int i = 1; i < argc; i++)
        copy[i] =
            argv[i][0] == '-' && argv[i][1] >= '0' && argv[i][1] <= '9' ? argv[i] + 1 : argv[i];
    int count = argc > 0 ? argc : 1;

    opterr = 0;
    optind = 0; /* glibc: start afresh */
    for (;;) {
        int at = optind > 0 ? optind : 1;
        int index = -1;
        int opt = getopt_long(count, copy, shortopts, longopts, &index);
        if (opt == -1)
            break;
        if (opt == 1) { /* an argument, in order */
            char *arg = s_original(optarg, argc, argv);
            if (ends_flags && ends_flags(arg)) {
                for (int i = optind - 1; i < count; i++)
                    self->args[self->arg_count++] = s_original(copy[i], argc, argv);
                optind = count;
                break;
            }
            self->args[self->arg_count++] = arg;
            continue;
        }
        if (opt == '?' || opt == ':') {
            const char *text = copy[optind - 1 > 0 ? optind - 1 : 1];
            if (optopt >= S_VAL_BASE) {
                const char *name = longopts[optopt - S_VAL_BASE].name;
                if (opt == ':')
                    snprintf(err, errlen, "--%s needs a value", name);
                else
                    snprintf(err, errlen, "--%s takes no value", name);
            } else if (optopt > 0 && opt == ':') {
                snprintf(err, errlen, "-%c needs a value", optopt);
            } else if (optopt > 0) {
                snprintf(err, errlen, "unknown option \"-%c\"", optopt);
            } else {
                int len = (int)strcspn(text, "=");
                snprintf(err, errlen, "unknown option \"%.*s\"", len, text);
            }
            goto failed;
        }
        int n = -1;
        if (opt >= S_VAL_BASE) {
            n = opt - S_VAL_BASE;
            if (!s_spelled_out(copy[at], longopts[n].name)) {
                char name[64];
                snprintf(name, sizeof name, "%s", copy[at]);
                char *eq = strchr(name, '=');
                if (eq)
                    *eq = '\0';
                snprintf(err, errlen, "unknown option \"%s\" (did you mean \"--%s\"?)", name,
                         longopts[n].name);
                goto failed;
            }
        } else {
            for (int k = 0; k < self->seen_count && n < 0; k++)
                if (self->seen[k].flag->short_name == opt)
                    n = k;
            if (n < 0) {
                snprintf(err, errlen, "unknown option \"-%c\"", opt);
                goto failed;
            }
        }
        self->seen[n].count++;
        if (self->seen[n].flag->takes_value) {
            self->seen[n].value = s_original(optarg, argc, argv);
            self->given_flag[self->given_count] = &self->seen[n];
            self->given_value[self->given_count++] = self->seen[n].value;
        }
    }
    for (int i = optind; i < count; i++) /* after "--" */
        self->args[self->arg_count++] = s_original(copy[i], argc, argv);
    free(longopts);
    free(shortopts);
    free(copy);
    return self;
failed:
    free(longopts);
    free(shortopts);
    free(copy);
    qc_flags_destroy(&self);
    return NULL;
}
