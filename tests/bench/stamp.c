/* stamp PATH: writes this process's CLOCK_MONOTONIC time (ns) as one decimal
 * line to PATH (the benchmark's FIFO) and exits. Built statically so that
 * exec'ing it costs as little as possible; it measures when a job's process
 * has started, for queuectl's worker and for a bare posix_spawn alike. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (argc != 2)
        return 2;
    char line[32];
    int len = snprintf(line, sizeof line, "%lld\n",
                       (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec);
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return 1;
    /* One write below PIPE_BUF: atomic on a FIFO. */
    int ok = write(fd, line, (size_t)len) == len;
    close(fd);
    return ok ? 0 : 1;
}
