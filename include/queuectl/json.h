/* JSON helpers shared by every program: parsing a peer's text with the
 * protocol's limits, and typed reads of fields. */
#ifndef QC_JSON_H
#define QC_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Parses a JSON text of len bytes that must be an object, valid UTF-8 and
 * no deeper than QC_MAX_JSON_DEPTH. Caller owns the result; NULL if not,
 * with the reason in err. */
cJSON *qc_json_parse_object(const char *text, size_t len, char *err, size_t errlen);

/* The string at key, or NULL if absent or not a string. */
const char *qc_json_string(const cJSON *obj, const char *key);
/* The integer at key (a number with no fraction, exactly representable):
 * 0 with *value set, or -1 if absent or not such a number. */
int qc_json_int(const cJSON *obj, const char *key, int64_t *value);

/* Adds value at key as an integer, printed with snprintf rather than by
 * cJSON, which prints every number with "%1.15g" and reads it back with
 * sscanf to check it: about 3,000 instructions a number, a third of a
 * worker's instructions per job. The item is raw JSON text: for objects
 * built to be printed, not read. Returns it, or NULL if out of memory. */
cJSON *qc_json_add_int(cJSON *obj, const char *key, int64_t value);

/* True if item nests no deeper than max_depth (arrays and objects). */
int qc_json_depth_ok(const cJSON *item, int max_depth);

#endif
