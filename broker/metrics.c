#include "metrics.h"

/* Upper bounds in ms: from sub-millisecond dispatch to five-minute jobs. */
static const double s_bounds[QC_HISTOGRAM_BUCKETS] = {
    1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000};

void qc_histogram_observe(qc_histogram_t *histogram, double ms)
{
    if (ms < 0)
        ms = 0;
    for (int i = 0; i < QC_HISTOGRAM_BUCKETS; i++)
        if (ms <= s_bounds[i])
            histogram->counts[i]++;
    histogram->count++;
    histogram->sum_ms += ms;
}

cJSON *qc_histogram_to_json(const qc_histogram_t *histogram)
{
    cJSON *obj = cJSON_CreateObject();
    cJSON *bounds = cJSON_AddArrayToObject(obj, "buckets");
    cJSON *counts = cJSON_AddArrayToObject(obj, "counts");
    for (int i = 0; i < QC_HISTOGRAM_BUCKETS; i++) {
        cJSON_AddItemToArray(bounds, cJSON_CreateNumber(s_bounds[i]));
        cJSON_AddItemToArray(counts, cJSON_CreateNumber((double)histogram->counts[i]));
    }
    cJSON_AddNumberToObject(obj, "sum", histogram->sum_ms);
    cJSON_AddNumberToObject(obj, "count", (double)histogram->count);
    return obj;
}
