/* Log lines: "2026-11-23T11:49:33.123Z broker INFO message", colored on a TTY. */
#include "queuectl/log.h"
#include "queuectl/clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

static const char *s_program = "queuectl";
static qc_log_level_t s_level = QC_LOG_INFO;
static int s_color = -1; /* -1: not decided yet */
static int s_json = 0;

static const char *s_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
static const char *s_colors[] = {"\033[2m", "\033[32m", "\033[33m", "\033[31m"};

void qc_log_init(const char *program)
{
    s_program = program;
}

void qc_log_set_level(qc_log_level_t level)
{
    s_level = level;
}

void qc_log_set_json(int on)
{
    s_json = on;
}

/* Writes s as the inside of a JSON string. */
static void s_json_escape(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
}

int qc_log_level_parse(const char *name)
{
    static const char *lower[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, lower[i]) == 0)
            return i;
    return -1;
}

void qc_log(qc_log_level_t level, const char *fmt, ...)
{
    if (level < s_level)
        return;
    if (s_color < 0)
        s_color = isatty(STDERR_FILENO) && getenv("NO_COLOR") == NULL;
    char stamp[32];
    qc_clock_format_iso(qc_clock_wall_ms(), stamp, sizeof stamp);
    char line[2048];
    va_list args;
    va_start(args, fmt);
    vsnprintf(line, sizeof line, fmt, args);
    va_end(args);
    if (s_json) {
        static const char *lower[] = {"debug", "info", "warn", "error"};
        flockfile(stderr);
        fprintf(stderr, "{\"ts\":\"%s\",\"program\":\"%s\",\"level\":\"%s\",\"msg\":\"", stamp,
                s_program, lower[level]);
        s_json_escape(stderr, line);
        fprintf(stderr, "\"}\n");
        funlockfile(stderr);
        return;
    }
    /* One fprintf per line so lines from several processes don't interleave. */
    if (s_color)
        fprintf(stderr, "%s %s %s%-5s\033[0m %s\n", stamp, s_program, s_colors[level],
                s_names[level], line);
    else
        fprintf(stderr, "%s %s %-5s %s\n", stamp, s_program, s_names[level], line);
}
