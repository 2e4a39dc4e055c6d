/* In-memory histograms for the metrics op (and so /metrics): since start. */
#ifndef QC_METRICS_H
#define QC_METRICS_H

#include <cjson/cJSON.h>
#include <stdint.h>

#define QC_HISTOGRAM_BUCKETS 16

typedef struct {
    int64_t counts[QC_HISTOGRAM_BUCKETS]; /* observations <= bucket bound */
    int64_t count;
    double sum_ms;
} qc_histogram_t;

typedef struct {
    qc_histogram_t dispatch_latency; /* due -> handed to a worker */
    qc_histogram_t run_time;         /* started -> finished, per attempt */
} qc_metrics_t;

void qc_histogram_observe(qc_histogram_t *histogram, double ms);
/* {"buckets": [le...], "counts": [cumulative...], "sum": ms, "count": n}. Caller owns. */
cJSON *qc_histogram_to_json(const qc_histogram_t *histogram);

#endif
