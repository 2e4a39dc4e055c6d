/* One line per event on stderr: time, program, level, message. */
#ifndef QC_LOG_H
#define QC_LOG_H

typedef enum { QC_LOG_DEBUG = 0, QC_LOG_INFO, QC_LOG_WARN, QC_LOG_ERROR } qc_log_level_t;

/* Program name shown in each line; the string must outlive logging. */
void qc_log_init(const char *program);
void qc_log_set_level(qc_log_level_t level);
/* One JSON object per line ({"ts","program","level","msg"}) for log shippers. */
void qc_log_set_json(int on);
/* Parses "debug|info|warn|error"; returns -1 on anything else. */
int qc_log_level_parse(const char *name);
void qc_log(qc_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define qc_debug(...) qc_log(QC_LOG_DEBUG, __VA_ARGS__)
#define qc_info(...) qc_log(QC_LOG_INFO, __VA_ARGS__)
#define qc_warn(...) qc_log(QC_LOG_WARN, __VA_ARGS__)
#define qc_error(...) qc_log(QC_LOG_ERROR, __VA_ARGS__)

#endif
