/* The invite book: invites to join the broker (queuectl invite), kept in a
 * JSON file only the broker writes (authorized/invites.json, 0600). Each
 * invite has an id, a role, the SHA-256 of its one-time secret (the secret
 * itself is shown once, in the token, and never stored), an expiry and a
 * number of uses. Every change is written to a temporary file, synced and
 * renamed over the book before the caller replies (persist before
 * acknowledge). The ZAP handler's thread keeps its own read-only book over
 * the same file to tell whether unknown keys may connect to enroll. */
#ifndef QC_INVITES_H
#define QC_INVITES_H

#include <stddef.h>
#include <stdint.h>

#include "queuectl/protocol.h"

/* An invite that has ended (expired, used up) is kept this long, so that a
 * late join hears "expired" or "used up" rather than nothing. */
#define QC_INVITE_KEEP_MS (24 * 3600 * 1000LL)
/* Wrong secrets: at most QC_INVITE_FAIL_BURST in a row, then one more per
 * QC_INVITE_FAIL_REFILL_MS (for the whole broker); an invite that saw
 * QC_INVITE_MAX_FAILURES wrong secrets is burnt. */
#define QC_INVITE_FAIL_BURST 10
#define QC_INVITE_FAIL_REFILL_MS 6000
#define QC_INVITE_MAX_FAILURES 5
/* Limits of queuectl invite. */
#define QC_INVITE_MAX_TTL_S (30 * 24 * 3600)
#define QC_INVITE_MAX_USES 1000
#define QC_INVITE_MAX_OPEN 1000 /* invites kept in the book */

/* qc_invites_redeem's answers. */
typedef enum {
    QC_INVITE_OK = 0,
    QC_INVITE_INVALID, /* no such invite, wrong secret, other role, or burnt */
    QC_INVITE_EXPIRED, /* right secret, but past its expiry */
    QC_INVITE_USED,    /* right secret, but no uses left */
    QC_INVITE_LIMITED, /* too many wrong secrets lately: not even checked */
    QC_INVITE_STORAGE  /* the book could not be written: nothing changed */
} qc_invite_verdict_t;

typedef struct _qc_invites_t qc_invites_t;

/* A book over path (read on first use; a missing file is an empty book).
 * NULL on failure. */
qc_invites_t *qc_invites_new(const char *path);
void qc_invites_destroy(qc_invites_t **self_p);

/* Creates an invite for role ("worker" or "client") valid ttl_ms from
 * now_ms for uses enrollments. Writes its id (QC_INVITE_ID_HEX hex digits)
 * and secret (QC_INVITE_SECRET_HEX) into the buffers, which hold one more
 * byte each. Returns 0, or -1 with err (the book is full or unwritable). */
int qc_invites_create(qc_invites_t *self, const char *role, int64_t ttl_ms, int uses,
                      int64_t now_ms, char *id, char *secret, char *err, size_t errlen);

/* Checks a presented secret for invite id of role, and on success takes one
 * use (written before it returns). The hashes are compared in constant
 * time; "expired" or "used up" is said only to the holder of the right
 * secret. now_mono_ms drives the wrong-secret budget. */
qc_invite_verdict_t qc_invites_redeem(qc_invites_t *self, const char *role, const char *id,
                                      const char *secret, int64_t now_ms, int64_t now_mono_ms);

/* Gives back the use a redeem took (the key could not be written). */
void qc_invites_refund(qc_invites_t *self, const char *id, int64_t now_ms);

/* True if an invite for role exists that is live, or ended less than
 * QC_INVITE_KEEP_MS ago: while it does, keys not yet authorized may connect
 * to that role's socket, to enroll and nothing else. Re-reads the file when
 * it changed (a stat per call). */
int qc_invites_open_for(qc_invites_t *self, const char *role, int64_t now_ms);

/* Last write error, for logs. */
const char *qc_invites_errmsg(qc_invites_t *self);

#endif
