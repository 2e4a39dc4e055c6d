#include "queuectl/paths.h"
#include "queuectl/log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* sun_path is 108 bytes; "ipc://" is not part of it. */
#define QC_IPC_PATH_MAX 107

static char s_home[PATH_MAX];

const char *qc_home(void)
{
    if (s_home[0])
        return s_home;
    const char *env = getenv("QUEUECTL_HOME");
    int n;
    if (env && *env) {
        n = snprintf(s_home, sizeof s_home, "%s", env);
    } else {
        const char *user_home = getenv("HOME");
        if (!user_home || !*user_home) {
            qc_error("neither QUEUECTL_HOME nor HOME is set");
            return NULL;
        }
        n = snprintf(s_home, sizeof s_home, "%s/.queuectl", user_home);
    }
    if (n < 0 || (size_t)n >= sizeof s_home) {
        s_home[0] = '\0';
        qc_error("QUEUECTL_HOME is too long");
        return NULL;
    }
    /* Owner-only: the ipc sockets inside are the broker's access control,
     * and the database holds every command and its output. */
    struct stat st;
    if ((mkdir(s_home, 0700) != 0 && errno != EEXIST) || stat(s_home, &st) != 0) {
        qc_error("cannot create %s: %s", s_home, strerror(errno));
        s_home[0] = '\0';
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        qc_error("%s is not a directory", s_home);
        s_home[0] = '\0';
        return NULL;
    }
    if (st.st_uid != geteuid()) {
        qc_error("%s belongs to uid %d, not to you (uid %d): set QUEUECTL_HOME to a directory of "
                 "your own",
                 s_home, (int)st.st_uid, (int)geteuid());
        s_home[0] = '\0';
        return NULL;
    }
    if (st.st_mode & 077) {
        qc_error("%s can be reached by other users (mode %03o), who could read every job's "
                 "command and output: run 'chmod 700 %s'",
                 s_home, (unsigned)(st.st_mode & 0777), s_home);
        s_home[0] = '\0';
        return NULL;
    }
    return s_home;
}

int qc_home_path(char *buf, size_t len, const char *name)
{
    const char *home = qc_home();
    if (!home)
        return -1;
    int n = snprintf(buf, len, "%s/%s", home, name);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int s_ipc_endpoint(char *buf, size_t len, const char *name)
{
    char path[PATH_MAX];
    if (qc_home_path(path, sizeof path, name) != 0)
        return -1;
    if (strlen(path) > QC_IPC_PATH_MAX) {
        qc_error("ipc socket path %s is longer than %d bytes: use a shorter QUEUECTL_HOME", path,
                 QC_IPC_PATH_MAX);
        return -1;
    }
    int n = snprintf(buf, len, "ipc://%s", path);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int qc_default_worker_endpoint(char *buf, size_t len)
{
    return s_ipc_endpoint(buf, len, "worker.sock");
}

int qc_default_client_endpoint(char *buf, size_t len)
{
    return s_ipc_endpoint(buf, len, "client.sock");
}

int qc_default_events_endpoint(char *buf, size_t len)
{
    return s_ipc_endpoint(buf, len, "events.sock");
}

static int s_pick(const char *flag, const char *env_name, char *buf, size_t len,
                  int (*fallback)(char *, size_t))
{
    const char *env = getenv(env_name);
    const char *chosen = (flag && *flag) ? flag : (env && *env) ? env : NULL;
    if (!chosen)
        return fallback(buf, len);
    int n = snprintf(buf, len, "%s", chosen);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int qc_client_endpoint(const char *flag, char *buf, size_t len)
{
    return s_pick(flag, "QUEUECTL_BROKER", buf, len, qc_default_client_endpoint);
}

int qc_worker_endpoint(const char *flag, char *buf, size_t len)
{
    return s_pick(flag, "QUEUECTL_WORKER_BROKER", buf, len, qc_default_worker_endpoint);
}

int qc_endpoint_is_default_client(const char *endpoint)
{
    char def[PATH_MAX + 8];
    if (qc_default_client_endpoint(def, sizeof def) != 0)
        return 0;
    return strcmp(def, endpoint) == 0;
}
