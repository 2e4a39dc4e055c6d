/* Joining a remote broker with one token (queuectl invite / join): the
 * token's format, and what a newcomer keeps in its QUEUECTL_HOME afterwards.
 *
 * A token is "qcjoin1." followed by the base64url (no padding) of a JSON
 * object {"v":1, "role", "endpoint", "key", "invite", "secret"}: the broker's
 * tcp endpoint for the role, its CURVE public key (Z85), and the invite's id
 * and one-time secret (hex). See docs/PROTOCOL.md, section 5.
 *
 * After a successful join the home holds keys/<role>.cert{,_secret} (the
 * newcomer's keypair, the default key of a worker or a client) and
 * keys/broker.cert: the broker's public key with the endpoint of each role
 * joined as metadata ("worker-endpoint", "client-endpoint"), which is the
 * default endpoint from then on (queuectl/paths.h). */
#ifndef QC_JOIN_H
#define QC_JOIN_H

#include <stddef.h>

#include "queuectl/protocol.h"

#define QC_TOKEN_PREFIX "qcjoin1."

typedef struct {
    char role[8]; /* "worker" or "client" */
    char endpoint[1024];
    char key[41]; /* the broker's public key, Z85 */
    char invite[QC_INVITE_ID_HEX + 1];
    char secret[QC_INVITE_SECRET_HEX + 1];
} qc_token_t;

/* The token's text. Caller owns the result (free); NULL if out of memory. */
char *qc_token_encode(const qc_token_t *token);

/* Parses a token (surrounding white space allowed). Returns 0, or -1 with
 * err saying what is wrong (truncated, not a token, bad field). */
int qc_token_decode(const char *text, qc_token_t *token, char *err, size_t errlen);

/* Before enrolling: the home may join this broker (it is not a broker's own
 * home, and has not joined another broker). Then makes sure
 * keys/<role>.cert_secret exists (creating the keypair like keygen) and
 * writes its path into key_path. Returns 0, or -1 with err. */
int qc_join_prepare(const qc_token_t *token, char *key_path, size_t len, char *err, size_t errlen);

/* After the broker enrolled us: writes keys/broker.cert (the broker's public
 * key, 0644) with the role's endpoint, keeping the other role's endpoint if
 * the same broker was joined before. Returns 0, or -1 with err. */
int qc_join_save(const qc_token_t *token, char *err, size_t errlen);

/* The endpoint this home joined for role ("worker" or "client"), from
 * keys/broker.cert's metadata. Returns 0 with buf set, or -1 if none. */
int qc_joined_endpoint(const char *role, char *buf, size_t len);

/* Enrolls this home's key for the token's role with the broker it names,
 * on that role's socket (a worker: ENROLL on a DEALER; a client: the enroll
 * op on a REQ): connects with CURVE (our secret cert key_path; the broker
 * authenticated by token->key), presents the token's secret with name as
 * the key's suggested name (NULL: the host name), and waits at most
 * timeout_ms, watching the handshake (docs/PROTOCOL.md 5). Returns 0 with
 * the name the broker gave the key in name_out, or an exit status
 * (QC_EXIT_JOIN_* when refused, at the handshake too; QC_EXIT_JOIN_NO_BROKER
 * when nothing answered; 1 otherwise) with the reason in err. */
int qc_join_enroll(const qc_token_t *token, const char *key_path, const char *name, int timeout_ms,
                   char *name_out, size_t len, char *err, size_t errlen);

/* The exit code for an enrollment refused with this error code
 * (QC_EXIT_JOIN_*), or 1 for any other. */
int qc_join_exit_code(const char *code);

#endif
