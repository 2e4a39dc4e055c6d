/* The dashboard's hub: what its threads share, under one mutex. Server-Sent
 * Events fan-out (each open /api/events stream has its own queue of SSE
 * text, filled by the feed and drained by the stream's connection thread),
 * the latest status for streams that open later, whether live updates come
 * from events or polling, and the last 600 seconds of throughput. */
#ifndef QC_HUB_H
#define QC_HUB_H

#include "queuectl/protocol.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QC_HUB_MAX_STREAMS 32         /* concurrent /api/events streams */
#define QC_HUB_STREAM_MAX_QUEUED 2000 /* messages waiting for one slow stream */
#define QC_HUB_STREAM_MAX_BYTES (4 * 1024 * 1024)
#define QC_HUB_TP_SECONDS 600         /* throughput history */
#define QC_HUB_TAIL_BYTES (64 * 1024) /* output kept per running job and stream */
#define QC_HUB_TAIL_JOBS 128

typedef struct _qc_hub_t qc_hub_t;
typedef struct _qc_hub_stream_t qc_hub_stream_t;

/* NULL on failure. */
qc_hub_t *qc_hub_new(void);
/* Every stream must be closed first. Accepts NULL; nulls *self_p. */
void qc_hub_destroy(qc_hub_t **self_p);

/* Formats "event: EVENT\ndata: JSON\n\n" once and queues it on every main
 * stream and, when job_id is given, on the output streams of that job
 * (output_only: on those alone). A stream that falls behind (over
 * QC_HUB_STREAM_MAX_QUEUED messages or QC_HUB_STREAM_MAX_BYTES) loses its
 * queue and gets a "resync" event; a message it was half-way through is
 * finished first. A "status" event is also kept for streams opened later. */
void qc_hub_publish(qc_hub_t *self, const char *event, const cJSON *data, const char *job_id,
                    int output_only);

/* Opens a stream: output_id NULL or "" for the main stream, else a job id
 * (only that job's output and job events). It starts with "hello", then
 * the latest status (a main stream) or the job's kept output (an output
 * stream). NULL when QC_HUB_MAX_STREAMS are open,
 * the hub is stopping, or out of memory. Close with qc_hub_stream_close. */
qc_hub_stream_t *qc_hub_stream_open(qc_hub_t *self, const char *output_id);

/* Copies at most max bytes of the stream's queued text into buf, waiting at
 * most wait_ms for some; sends an SSE comment line when none came. Returns
 * the byte count, or -1 once the hub is stopping (end of stream). */
ssize_t qc_hub_stream_read(qc_hub_stream_t *stream, char *buf, size_t max, int wait_ms);

/* Unlinks the stream and frees it. Accepts NULL; nulls *stream_p. */
void qc_hub_stream_close(qc_hub_stream_t **stream_p);

/* Ends every stream: readers return -1 and no new stream opens. */
void qc_hub_stop(qc_hub_t *self);

/* Live mode: polling (1) or the broker's event stream (0). A change is
 * announced to the streams with a "hello" event. */
void qc_hub_set_polling(qc_hub_t *self, int polling);
int qc_hub_polling(qc_hub_t *self);

/* Main streams open now (the feed fetches status only when someone looks). */
int qc_hub_main_streams(qc_hub_t *self);

/* Output of a running job (the broker's output.<id> events): sent to that
 * job's output streams and kept, the last QC_HUB_TAIL_BYTES of stdout and of
 * stderr for at most QC_HUB_TAIL_JOBS jobs (the least recently written goes
 * first), so that a stream opened later starts with an "output" event per
 * stream holding what is kept ("replay": true). A new attempt starts afresh. */
void qc_hub_output(qc_hub_t *self, const char *id, int attempt, const char *stream,
                   const char *data);

/* The job left processing: forget its kept output. */
void qc_hub_output_forget(qc_hub_t *self, const char *id);

/* The latest status event's SSE text, or NULL. Caller frees. */
char *qc_hub_last_status(qc_hub_t *self);

/* Throughput: adds to second sec (Unix time); reads one second; the whole
 * history as {interval_s, end, completed: [600], failed: [600]}, oldest
 * first (caller owns). */
void qc_hub_tp_add(qc_hub_t *self, int64_t sec, int completed, int failed);
void qc_hub_tp_get(qc_hub_t *self, int64_t sec, int *completed, int *failed);
cJSON *qc_hub_throughput(qc_hub_t *self, int64_t now_s);

#endif
