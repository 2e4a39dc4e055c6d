/* Output for people (aligned tables, color on a terminal) and programs (JSON). */
#include "ctl.h"
#include "queuectl/clock.h"
#include "queuectl/json.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int s_color = -1;

void qc_out_no_color(void)
{
    s_color = 0;
}

int qc_out_color(void)
{
    if (s_color < 0) {
        const char *no_color = getenv("NO_COLOR");
        s_color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    }
    return s_color;
}

const char *qc_out_state_color(const char *state)
{
    if (!qc_out_color() || !state)
        return "";
    if (strcmp(state, "completed") == 0)
        return "\033[32m";
    if (strcmp(state, "processing") == 0)
        return "\033[36m";
    if (strcmp(state, "failed") == 0)
        return "\033[33m";
    if (strcmp(state, "dead") == 0)
        return "\033[31m";
    return "";
}

const char *qc_out_reset(void)
{
    return qc_out_color() ? "\033[0m" : "";
}

void qc_out_json(const cJSON *value)
{
    char *text = cJSON_Print(value);
    if (text) {
        printf("%s\n", text);
        cJSON_free(text);
    }
}

void qc_out_json_line(const cJSON *value)
{
    char *text = cJSON_PrintUnformatted(value);
    if (text) {
        printf("%s\n", text);
        cJSON_free(text);
    }
}

const char *qc_out_ago(const char *iso, char *buf, size_t len)
{
    int64_t then;
    if (!qc_out_color() || qc_clock_parse_iso(iso, &then) != 0) {
        snprintf(buf, len, "%s", iso);
        return buf;
    }
    int64_t s = (qc_clock_wall_ms() - then) / 1000;
    if (s < 0)
        snprintf(buf, len, "in %llds", (long long)-s);
    else if (s < 120)
        snprintf(buf, len, "%llds ago", (long long)s);
    else if (s < 7200)
        snprintf(buf, len, "%lldm ago", (long long)s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%lldh ago", (long long)s / 3600);
    else
        snprintf(buf, len, "%lldd ago", (long long)s / 86400);
    return buf;
}

void qc_out_table_part(const char *const *header, int columns, const char *const *cells, int rows,
                       size_t *width, int with_header)
{
    for (int c = 0; c < columns && c < 16; c++) {
        if (strlen(header[c]) > width[c])
            width[c] = strlen(header[c]);
        for (int r = 0; r < rows; r++) {
            const char *cell = cells[r * columns + c];
            size_t w = cell ? strlen(cell) : 1;
            if (w > width[c])
                width[c] = w;
        }
        if (width[c] > 60)
            width[c] = 60;
    }
    int color = qc_out_color();
    for (int c = 0; with_header && c < columns; c++) {
        if (c + 1 < columns)
            printf("%s%-*s%s  ", color ? "\033[1m" : "", (int)width[c], header[c],
                   color ? "\033[0m" : "");
        else
            printf("%s%s%s\n", color ? "\033[1m" : "", header[c], color ? "\033[0m" : "");
    }
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < columns; c++) {
            const char *cell = cells[r * columns + c];
            if (!cell)
                cell = "-";
            /* The state column gets its color; the last column is not padded. */
            const char *on = qc_out_state_color(cell);
            if (c + 1 < columns)
                printf("%s%-*.*s%s  ", on, (int)width[c], (int)width[c], cell,
                       *on ? qc_out_reset() : "");
            else
                printf("%s\n", cell);
        }
    }
}

void qc_out_table(const char *const *header, int columns, const char *const *cells, int rows)
{
    size_t width[16] = {0};
    qc_out_table_part(header, columns, cells, rows, width, 1);
}

const char *qc_out_text(const cJSON *obj, const char *key, const char *fallback)
{
    const char *text = qc_json_string(obj, key);
    return text ? text : fallback;
}
