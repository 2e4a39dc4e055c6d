/* The broker's runtime settings (config get/set): keys, defaults, validation. */
#ifndef QC_CONFIG_H
#define QC_CONFIG_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "queuectl/parse.h"

typedef struct {
    int max_retries;   /* default for jobs that don't say */
    int backoff_base;  /* seconds, raised to the attempt number */
    int backoff_max_s; /* cap on one backoff */
    int job_timeout_s; /* default for jobs that don't say */
    int retention_s;   /* delete completed/canceled jobs older than this; 0 = never */
    /* Defaults for jobs that don't give their own (canonical exit lists). */
    char retry_on_exit[QC_EXIT_LIST_BYTES];
    char no_retry_on_exit[QC_EXIT_LIST_BYTES];
} qc_config_t;

#define QC_CONFIG_KEY_COUNT 7
/* Longest value of a key as text. */
#define QC_CONFIG_VALUE_BYTES QC_EXIT_LIST_BYTES

/* Fills the built-in defaults. */
void qc_config_defaults(qc_config_t *config);

/* Canonical (snake_case) name of a key given in either case style, or NULL. */
const char *qc_config_key_canonical(const char *key);

/* Validates text for key and stores it in config. Returns 0, or -1 with a
 * message naming the key and the accepted range in err. */
int qc_config_set(qc_config_t *config, const char *key, const char *text, char *err, size_t errlen);

/* Value of a canonical key as text (for storage), into buf. */
void qc_config_format(const qc_config_t *config, const char *key, char *buf, size_t len);

/* Caller owns the returned object: every key, or just key if not NULL. */
cJSON *qc_config_to_json(const qc_config_t *config, const char *key);

/* Name of the i-th key (0..QC_CONFIG_KEY_COUNT-1). */
const char *qc_config_key_at(int i);

#endif
