/* Authorized CURVE keys: one keyring per role (workers, clients), read from
 * a directory of czmq certificate files, and the ZAP handler that admits a
 * connection only if its key is in the keyring of the socket's role. */
#ifndef QC_KEYRING_H
#define QC_KEYRING_H

#include <czmq.h>

/* ZAP domains: each CURVE socket sets its role's, so a key of the wrong
 * role is refused at the handshake, not message by message. */
#define QC_ZAP_DOMAIN_WORKERS "queuectl-workers"
#define QC_ZAP_DOMAIN_CLIENTS "queuectl-clients"

typedef struct _qc_keyring_t qc_keyring_t;

/* A keyring over dir (not read until the first lookup). NULL on failure. */
qc_keyring_t *qc_keyring_new(const char *dir);
void qc_keyring_destroy(qc_keyring_t **self_p);

/* True if key (Z85, 40 characters) is authorized. The directory is read
 * again only when its modification time has changed, checked at most every
 * QC_KEYRING_RECHECK_MS: a lookup costs a hash probe, not a directory scan. */
#define QC_KEYRING_RECHECK_MS 1000
int qc_keyring_has(qc_keyring_t *self, const char *key);

/* Number of keys loaded (after the last reload). */
size_t qc_keyring_size(qc_keyring_t *self);

/* On a CURVE socket, true if the message's sender key (User-Id metadata)
 * is in keys, the keyring of the socket's role (NULL: no CURVE, always
 * true). Logs refusals with the peer's address. */
int qc_keyring_allowed(qc_keyring_t *keys, zmsg_t *msg, const char *role);

/* The ZAP handler, as a czmq actor: args is the authorized directory (with
 * workers/ and clients/ inside); it binds inproc://zeromq.zap.01. Create it
 * before any CURVE socket binds; destroy it after they are closed. */
void qc_keyring_zap_actor(zsock_t *pipe, void *args);

#endif
