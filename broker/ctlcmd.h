/* Client requests (REQ/REP JSON protocol, docs/PROTOCOL.md section 2). */
#ifndef QC_CTLCMD_H
#define QC_CTLCMD_H

#include "broker.h"
#include "enroll.h"

/* Decodes one request frame, runs it, and returns its reply (caller owns;
 * never NULL). A reply with "ok": false means its writes must be undone.
 * writable = 0 when no transaction could be opened: write ops are refused.
 * peer says who sent it: a key not enrolled as a client (a guest, admitted
 * while an invite is open) may only "enroll"; anything else is forbidden. */
cJSON *qc_ctlcmd_handle(qc_broker_t *broker, const char *text, size_t len, int writable,
                        const qc_peer_t *peer);

#endif
