/* CURVE keys: where they live, how peers load them, and the role check.
 * Layout inside QUEUECTL_HOME:
 *   keys/broker.cert, keys/broker.cert_secret   the broker's keypair
 *   keys/NAME.cert, keys/NAME.cert_secret       a worker's or client's keypair
 *   authorized/workers/ *.cert                  public keys allowed to work
 *   authorized/clients/ *.cert                  public keys allowed to enqueue/manage
 * Certificates are czmq's format; keygen writes metadata "role". */
#ifndef QC_CURVE_H
#define QC_CURVE_H

#include <czmq.h>
#include <stddef.h>

/* True for endpoints that need authentication (anything but ipc/inproc). */
int qc_endpoint_is_network(const char *endpoint);

/* Connects sock to every endpoint of a comma-separated list (brokers of
 * which one is active). With more than one, ZMQ_IMMEDIATE queues messages
 * only on live connections (a passive broker doesn't bind) and ZMTP
 * heartbeats drop a connection to a paused peer. Returns 0 or -1. */
int qc_endpoint_connect(zsock_t *sock, const char *endpoints);

/* Loads the broker's keypair from keys/broker.cert_secret in the home,
 * creating it (0600) if missing. Caller owns the result; NULL with err. */
zcert_t *qc_curve_broker_cert(char *err, size_t errlen);

/* Writes a new keypair <dir>/<name>.cert and .cert_secret with metadata
 * name and role. Refuses to overwrite. Returns 0 or -1 with err. */
int qc_curve_keygen(const char *dir, const char *name, const char *role, char *err, size_t errlen);

/* Client side of CURVE for sock (a worker's DEALER or a client's REQ) about to
 * connect to endpoint. A no-op for ipc. For a network endpoint it needs:
 *   the peer's own secret cert: key_path, else env QUEUECTL_CURVE_KEY, else
 *     keys/<default_name>.cert_secret in the home;
 *   the broker's public key: server_key (a cert file or a 40-char Z85 key),
 *     else env QUEUECTL_SERVER_KEY, else keys/broker.cert in the home.
 * insecure = 1 skips CURVE (for a broker started with --insecure).
 * Returns 0, or -1 with err naming what is missing. */
int qc_curve_client_apply(zsock_t *sock, const char *endpoint, const char *key_path,
                          const char *server_key, const char *default_name, int insecure, char *err,
                          size_t errlen);

#endif
