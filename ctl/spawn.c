/* Starting the broker and workers as background processes. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int qc_spawn_program_path(const char *name, char *buf, size_t len)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            int written = snprintf(buf, len, "%s/%s", self, name);
            if (written > 0 && (size_t)written < len && access(buf, X_OK) == 0)
                return 0;
        }
    }
    /* Fall back to PATH. */
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *colon = strchr(path, ':');
        size_t dir_len = colon ? (size_t)(colon - path) : strlen(path);
        int written = snprintf(buf, len, "%.*s/%s", (int)dir_len, path, name);
        if (written > 0 && (size_t)written < len && access(buf, X_OK) == 0)
            return 0;
        path = colon ? colon + 1 : NULL;
    }
    return -1;
}

int qc_spawn_detached(char *const argv[], const char *log_path)
{
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(log_fd);
        return -1;
    }
    if (pid == 0) {
        setsid(); /* out of the terminal's session: Ctrl-C there won't reach it */
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0)
            dup2(null_fd, STDIN_FILENO);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        execv(argv[0], argv);
        fprintf(stderr, "cannot exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(log_fd);
    return pid;
}

int qc_spawn_alive(int pid)
{
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid)
        return 0;
    if (kill(pid, 0) == 0)
        return 1;
    return errno == EPERM;
}

int qc_spawn_read_pid(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return 0;
    int pid = 0;
    if (fscanf(file, "%d", &pid) != 1 || pid <= 1)
        pid = 0;
    fclose(file);
    if (!pid || !qc_spawn_alive(pid))
        return 0;
    /* After a crash or a reboot the pid may belong to someone else now. */
    char path_buf[64], cmdline[4096];
    snprintf(path_buf, sizeof path_buf, "/proc/%d/cmdline", pid);
    FILE *proc = fopen(path_buf, "r");
    size_t len = proc ? fread(cmdline, 1, sizeof cmdline - 1, proc) : 0;
    if (proc)
        fclose(proc);
    cmdline[len] = '\0'; /* argv[0] is the first NUL-terminated string */
    return strstr(cmdline, "queuectl-broker") ? pid : 0;
}
