/* queuectl dashboard: runs queuectl-dashboard (dashboard/), found next to
 * queuectl or on PATH, with the global flags passed on before the
 * command's own. The CLI itself never links libmicrohttpd. */
#include "ctl.h"
#include "queuectl/protocol.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int qc_cmd_dashboard(qc_ctl_t *ctl, int argc, char **argv)
{
    char program[4096], timeout[32];
    if (qc_spawn_program_path("queuectl-dashboard", program, sizeof program) != 0)
        return qc_ctl_usage_error("cannot find queuectl-dashboard next to queuectl or on PATH");
    char **child = calloc((size_t)argc + 12, sizeof *child);
    if (!child)
        return QC_CTL_REFUSED;
    int n = 0;
    child[n++] = program;
    if (ctl->endpoint_flag) {
        child[n++] = "--broker";
        child[n++] = (char *)ctl->endpoint_flag;
    }
    if (ctl->curve_key) {
        child[n++] = "--curve-key";
        child[n++] = (char *)ctl->curve_key;
    }
    if (ctl->server_key) {
        child[n++] = "--server-key";
        child[n++] = (char *)ctl->server_key;
    }
    if (ctl->insecure)
        child[n++] = "--broker-insecure";
    if (ctl->timeout_ms != QC_CLIENT_TIMEOUT_MS) {
        snprintf(timeout, sizeof timeout, "%dms", ctl->timeout_ms);
        child[n++] = "--timeout";
        child[n++] = timeout;
    }
    for (int i = 1; i < argc; i++)
        child[n++] = argv[i];
    fflush(NULL);
    execv(program, child);
    int saved = errno;
    free(child);
    fprintf(stderr, "queuectl: cannot run %s: %s\n", program, strerror(saved));
    return QC_CTL_REFUSED;
}
