/* queuectl dashboard: placeholder until the web dashboard lands. */
#include "ctl.h"

int qc_cmd_dashboard(qc_ctl_t *ctl, int argc, char **argv)
{
    (void)ctl, (void)argc, (void)argv;
    return qc_ctl_usage_error("dashboard: not available in this build yet");
}
