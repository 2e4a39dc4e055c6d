/* The CLI's flags: the global ones (accepted before and after the command)
 * and the glue between a command's own flags and the one parser
 * (common/flags.c). */
#include "ctl.h"
#include "queuectl/parse.h"

#include <stdarg.h>
#include <string.h>

const qc_flag_t qc_ctl_global_flags[] = {
    {"broker", 0, 1},    {"json", 0, 0},       {"no-color", 0, 0}, {"timeout", 0, 1},
    {"curve-key", 0, 1}, {"server-key", 0, 1}, {"insecure", 0, 0}, {"no-autostart", 0, 0},
    {"help", 'h', 0},    {NULL, 0, 0}};

int qc_ctl_usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "queuectl: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
    return QC_CTL_USAGE;
}

/* The global flag named name, if given and not shadowed by table. */
static const char *s_global(const qc_flags_t *flags, const qc_flag_t *table, const char *name,
                            int *given)
{
    *given = !qc_flags_table_has(table, name) && qc_flags_count(flags, name) > 0;
    return *given ? qc_flags_value(flags, name) : NULL;
}

int qc_ctl_apply_globals(qc_ctl_t *ctl, const qc_flags_t *flags, const qc_flag_t *table)
{
    int given;
    const char *value;
    s_global(flags, table, "json", &given);
    if (given)
        ctl->json = 1;
    s_global(flags, table, "no-color", &given);
    if (given)
        qc_out_no_color();
    s_global(flags, table, "insecure", &given);
    if (given)
        ctl->insecure = 1;
    s_global(flags, table, "no-autostart", &given);
    if (given)
        ctl->no_autostart = 1;
    if ((value = s_global(flags, table, "broker", &given))) {
        if (!*value)
            return qc_ctl_usage_error("--broker needs an endpoint, e.g. tcp://host:5555");
        ctl->endpoint_flag = value;
    }
    if ((value = s_global(flags, table, "curve-key", &given)))
        ctl->curve_key = value;
    if ((value = s_global(flags, table, "server-key", &given)))
        ctl->server_key = value;
    if ((value = s_global(flags, table, "timeout", &given))) {
        int64_t ms;
        if (qc_parse_duration_ms(value, &ms) != 0 || ms < 1 || ms > 3600000)
            return qc_ctl_usage_error("invalid --timeout \"%s\": use a duration such as 5s", value);
        ctl->timeout_ms = (int)ms;
    }
    return QC_CTL_OK;
}

int qc_ctl_parse(qc_ctl_t *ctl, const qc_flag_t *table, int argc, char **argv,
                 int (*ends_flags)(const char *arg), qc_flags_t **flags_out)
{
    static const qc_flag_t none[] = {{NULL, 0, 0}};
    if (!table)
        table = none;
    const qc_flag_t *const tables[] = {table, qc_ctl_global_flags, NULL};
    char err[256];
    *flags_out = NULL;
    qc_flags_t *flags = qc_flags_parse(tables, argc, argv, ends_flags, err, sizeof err);
    const char *command = ctl->command ? ctl->command : argv[0];
    if (!flags)
        return qc_ctl_usage_error("%s: %s (see queuectl %s --help)", command, err, command);
    if (!qc_flags_table_has(table, "help") && qc_flags_count(flags, "help")) {
        fputs(ctl->help ? ctl->help : "see queuectl --help\n", stdout);
        qc_flags_destroy(&flags);
        return QC_CTL_HELP;
    }
    int rc = qc_ctl_apply_globals(ctl, flags, table);
    if (rc != QC_CTL_OK) {
        qc_flags_destroy(&flags);
        return rc;
    }
    *flags_out = flags;
    return QC_CTL_OK;
}

int qc_ctl_parse_none(qc_ctl_t *ctl, int argc, char **argv)
{
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, NULL, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    if (qc_flags_argc(flags) > 0)
        rc = qc_ctl_usage_error("%s: unexpected argument \"%s\"",
                                ctl->command ? ctl->command : argv[0], qc_flags_arg(flags, 0));
    qc_flags_destroy(&flags);
    return rc;
}
