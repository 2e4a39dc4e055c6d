/* The feed: one thread that owns the SUB socket on the broker's event stream
 * (job., worker., output.: the output of every running job, which the hub
 * keeps so a panel opened late starts from its tail) and a REQ client of its own for
 * status/metrics. It turns each event into an SSE message on the hub, counts throughput, and pushes
 * status after changes. Without an event stream it polls metrics (or status) every second and
 * pushes "refresh" when something changed. */
#ifndef QC_FEED_H
#define QC_FEED_H

#include "hub.h"
#include "upstream.h"

#include <stddef.h>

typedef struct _qc_feed_t qc_feed_t;

/* The event stream's endpoint: flag if given, else the events_endpoint the
 * broker's ping reports (a wildcard tcp host replaced by the broker's), else
 * events.sock beside an ipc client endpoint; "" if none is known. Warns on
 * stderr when no broker answers. */
void qc_feed_resolve_endpoint(qc_upstream_t *upstream, const char *flag, char *buf, size_t len);

/* Starts the thread. hub and upstream are not owned and must outlive the
 * feed; events_endpoint is copied ("" for polling). NULL on failure. */
qc_feed_t *qc_feed_new(qc_hub_t *hub, qc_upstream_t *upstream, const char *events_endpoint);

/* Stops and joins the thread. Accepts NULL; nulls *self_p. */
void qc_feed_destroy(qc_feed_t **self_p);

#endif
