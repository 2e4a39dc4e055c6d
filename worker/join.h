/* queuectl-worker --join: enrolls this worker's key with the broker a
 * token names, over the worker socket (ENROLL, answered ENROLLED or
 * DENIED; docs/PROTOCOL.md 5). */
#ifndef QC_WORKER_JOIN_H
#define QC_WORKER_JOIN_H

#include <stddef.h>

#include "queuectl/join.h"

/* Connects to token->endpoint with CURVE (our secret cert key_path; the
 * broker authenticated by token->key), presents the token's secret with
 * name as the key's suggested name, and waits at most timeout_ms. Returns 0
 * with the name the broker gave the key in name_out, or the exit status to
 * end with (QC_EXIT_JOIN_* for a refused token, 3 when no broker answered,
 * 1 otherwise), the reason logged. */
int qc_worker_join(const qc_token_t *token, const char *key_path, const char *name, int timeout_ms,
                   char *name_out, size_t len);

#endif
