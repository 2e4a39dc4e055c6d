/* /metrics: the broker's counts, totals and histograms as Prometheus text. */
#ifndef QC_METRICS_H
#define QC_METRICS_H

#include "reply.h"
#include "upstream.h"

/* Asks the broker (metrics, or status from an older broker) and fills
 * reply: 200 with the text; "queuectl_broker_up 0" alone when the broker
 * does not answer. */
void qc_metrics_render(qc_upstream_t *upstream, qc_reply_t *reply);

#endif
