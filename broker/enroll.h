/* Remote access: the broker's side of queuectl invite, join and keys. The
 * ops invite, enroll, keys.list and keys.revoke (docs/PROTOCOL.md 2.4 and
 * 5), and the authorized/ directory as the broker writes it: one czmq
 * public certificate per enrolled key, authorized/<role>s/<name>.cert, with
 * metadata name, role, enrolled-at, invite and host. */
#ifndef QC_ENROLL_H
#define QC_ENROLL_H

#include "broker.h"

/* Who sent a request: on a CURVE socket its public key (Z85) and whether
 * that key is in the role's keyring; on ipc, key is NULL. */
typedef struct {
    const char *key;     /* NULL on ipc */
    const char *address; /* the peer's address, for logs; may be NULL */
    int enrolled;        /* key is authorized for the socket's role */
} qc_peer_t;

/* Each returns the reply (caller owns, never NULL). */

/* invite {role, ttl_s?, uses?, address?}: a new invite and its token. */
cJSON *qc_enroll_op_invite(qc_broker_t *broker, const cJSON *request);

/* enroll {invite, secret, name?, host?} from peer on role's socket ("worker"
 * or "client"): checks the secret, writes the key into authorized/, and
 * answers {name, role, key}. A key already enrolled for the role is answered
 * ok ({already: true}) without taking a use, so a join whose reply was lost
 * can be run again. */
cJSON *qc_enroll_handle(qc_broker_t *broker, const char *role, const qc_peer_t *peer,
                        const cJSON *request);

/* keys.list: every key in authorized/{workers,clients}/. */
cJSON *qc_enroll_op_keys_list(qc_broker_t *broker, const cJSON *request);

/* keys.revoke {name, role?}: deletes the key's files, drops the workers
 * registered with it at once (their jobs go the lost-worker way) and tells
 * them DENIED; from then on the key's messages are refused. */
cJSON *qc_enroll_op_keys_revoke(qc_broker_t *broker, const cJSON *request);

#endif
