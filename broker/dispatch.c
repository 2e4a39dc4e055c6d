#include "dispatch.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    qc_held_t job;
    int64_t deadline_mono_ms;
} s_orphan_t;

struct _qc_dispatch_t {
    zhashx_t *workers; /* key -> qc_worker_t*, owned */
    zlistx_t *orphans; /* s_orphan_t*, owned */
    uint64_t given;    /* jobs given so far: each worker's last_given is one of these */
    uint64_t pass;     /* dispatch passes so far */
};

static void s_worker_free(void **item)
{
    qc_worker_t *worker = *item;
    if (!worker)
        return;
    zframe_destroy(&worker->routing_id);
    free(worker->held);
    free(worker->queues);
    free(worker);
    *item = NULL;
}

static void s_orphan_free(void **item)
{
    free(*item);
    *item = NULL;
}

qc_dispatch_t *qc_dispatch_new(void)
{
    qc_dispatch_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->workers = zhashx_new();
    self->orphans = zlistx_new();
    zhashx_set_destructor(self->workers, s_worker_free);
    zlistx_set_destructor(self->orphans, s_orphan_free);
    return self;
}

void qc_dispatch_destroy(qc_dispatch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_dispatch_t *self = *self_p;
    zhashx_destroy(&self->workers);
    zlistx_destroy(&self->orphans);
    free(self);
    *self_p = NULL;
}

static void s_key(zframe_t *routing_id, char *key, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t size = zframe_size(routing_id);
    const unsigned char *data = zframe_data(routing_id);
    size_t i = 0;
    for (; i < size && 2 * i + 2 < len; i++) {
        key[2 * i] = hex[data[i] >> 4];
        key[2 * i + 1] = hex[data[i] & 15];
    }
    key[2 * i] = '\0';
}

qc_worker_t *qc_dispatch_find(qc_dispatch_t *self, zframe_t *routing_id)
{
    char key[2 * 256 + 1];
    s_key(routing_id, key, sizeof key);
    return zhashx_lookup(self->workers, key);
}

qc_worker_t *qc_dispatch_find_by_name(qc_dispatch_t *self, const char *worker_id)
{
    for (qc_worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers))
        if (strcmp(w->worker_id, worker_id) == 0)
            return w;
    return NULL;
}

qc_worker_t *qc_dispatch_find_by_instance(qc_dispatch_t *self, const char *instance)
{
    if (!instance || !*instance)
        return NULL;
    for (qc_worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers))
        if (strcmp(w->instance, instance) == 0)
            return w;
    return NULL;
}

qc_worker_t *qc_dispatch_add(qc_dispatch_t *self, zframe_t *routing_id,
                             const qc_worker_hello_t *hello, int64_t now_mono_ms,
                             int64_t now_wall_ms)
{
    if (hello->slots < 1 || hello->slots > QC_MAX_SLOTS)
        return NULL;
    qc_worker_t *worker = calloc(1, sizeof *worker);
    if (!worker)
        return NULL;
    worker->held_cap = hello->slots;
    worker->held = calloc((size_t)worker->held_cap, sizeof *worker->held);
    if (!worker->held) {
        free(worker);
        return NULL;
    }
    worker->routing_id = zframe_dup(routing_id);
    s_key(routing_id, worker->key, sizeof worker->key);
    snprintf(worker->worker_id, sizeof worker->worker_id, "%s", hello->worker_id);
    snprintf(worker->instance, sizeof worker->instance, "%s", hello->instance);
    snprintf(worker->curve_key, sizeof worker->curve_key, "%s",
             hello->curve_key ? hello->curve_key : "");
    snprintf(worker->host, sizeof worker->host, "%s", hello->host);
    worker->pid = hello->pid;
    worker->slots = hello->slots;
    if (hello->queues && !(worker->queues = strdup(hello->queues))) {
        zframe_destroy(&worker->routing_id);
        free(worker->held);
        free(worker);
        return NULL;
    }
    worker->connected_at_ms = now_wall_ms;
    worker->last_seen_mono_ms = now_mono_ms;
    zhashx_delete(self->workers, worker->key);
    zhashx_insert(self->workers, worker->key, worker);
    return worker;
}

void qc_dispatch_remove(qc_dispatch_t *self, qc_worker_t **worker_p)
{
    if (!worker_p || !*worker_p)
        return;
    zhashx_delete(self->workers, (*worker_p)->key);
    *worker_p = NULL;
}

qc_worker_t *qc_dispatch_first(qc_dispatch_t *self)
{
    return zhashx_first(self->workers);
}

qc_worker_t *qc_dispatch_next(qc_dispatch_t *self)
{
    return zhashx_next(self->workers);
}

size_t qc_dispatch_size(qc_dispatch_t *self)
{
    return zhashx_size(self->workers);
}

/* Among workers with a free slot, the least recently given wins. */
static int s_better(const qc_worker_t *a, const qc_worker_t *b)
{
    return a->last_given < b->last_given;
}

qc_worker_t *qc_dispatch_pick(qc_dispatch_t *self)
{
    qc_worker_t *best = NULL;
    for (qc_worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers))
        if (qc_worker_free_slots(w) > 0 && w->nothing_due_pass != self->pass &&
            (!best || s_better(w, best)))
            best = w;
    return best;
}

int qc_dispatch_plan(qc_dispatch_t *self, qc_worker_t **out, int max)
{
    /* pick and given, played on copies: taken[i] slots and order[i] for the
     * distinct workers seen[0..seen_count) planned so far. */
    qc_worker_t *seen[QC_DISPATCH_PLAN_MAX];
    int taken[QC_DISPATCH_PLAN_MAX];
    uint64_t order[QC_DISPATCH_PLAN_MAX];
    int n = 0, seen_count = 0;
    if (max > QC_DISPATCH_PLAN_MAX)
        max = QC_DISPATCH_PLAN_MAX;
    uint64_t given = self->given;
    while (n < max) {
        qc_worker_t *best = NULL;
        uint64_t best_order = 0;
        for (qc_worker_t *w = zhashx_first(self->workers); w; w = zhashx_next(self->workers)) {
            int free_slots = qc_worker_free_slots(w), k = 0;
            uint64_t last = w->last_given;
            while (k < seen_count && seen[k] != w)
                k++;
            if (k < seen_count) {
                free_slots -= taken[k];
                last = order[k];
            }
            if (free_slots > 0 && w->nothing_due_pass != self->pass &&
                (!best || last < best_order)) {
                best = w;
                best_order = last;
            }
        }
        if (!best)
            break;
        out[n++] = best;
        if (best->queues)
            break;
        int k = 0;
        while (k < seen_count && seen[k] != best)
            k++;
        if (k == seen_count) {
            seen[seen_count++] = best;
            taken[k] = 0;
        }
        taken[k]++;
        order[k] = ++given;
    }
    return n;
}

void qc_dispatch_given(qc_dispatch_t *self, qc_worker_t *worker)
{
    worker->last_given = ++self->given;
}

void qc_dispatch_pass_begin(qc_dispatch_t *self)
{
    self->pass++;
}

void qc_dispatch_nothing_due(qc_dispatch_t *self, qc_worker_t *worker)
{
    worker->nothing_due_pass = self->pass;
}

int qc_worker_free_slots(const qc_worker_t *worker)
{
    if (worker->stopping)
        return 0;
    int taken = 0;
    for (int i = 0; i < worker->held_count; i++)
        taken += !worker->held[i].finished;
    return worker->slots > taken ? worker->slots - taken : 0;
}

int qc_worker_running_count(const qc_worker_t *worker)
{
    int running = 0;
    for (int i = 0; i < worker->held_count; i++)
        running += worker->held[i].started && !worker->held[i].finished;
    return running;
}

qc_held_t *qc_worker_hold(qc_worker_t *worker, int64_t seq, const char *id, int attempt)
{
    if (worker->held_count == worker->held_cap) {
        int cap = 2 * worker->held_cap;
        qc_held_t *grown = realloc(worker->held, (size_t)cap * sizeof *grown);
        if (!grown)
            return NULL;
        worker->held = grown;
        worker->held_cap = cap;
    }
    qc_held_t *held = &worker->held[worker->held_count++];
    memset(held, 0, sizeof *held);
    held->seq = seq;
    snprintf(held->id, sizeof held->id, "%s", id);
    held->attempt = attempt;
    return held;
}

static int s_find_held(qc_worker_t *worker, const char *id, int attempt)
{
    for (int i = 0; i < worker->held_count; i++)
        if (worker->held[i].attempt == attempt && strcmp(worker->held[i].id, id) == 0)
            return i;
    return -1;
}

int qc_worker_holds(qc_worker_t *worker, const char *id, int attempt)
{
    return s_find_held(worker, id, attempt) >= 0;
}

qc_held_t *qc_worker_held(qc_worker_t *worker, const char *id, int attempt)
{
    int i = s_find_held(worker, id, attempt);
    return i < 0 ? NULL : &worker->held[i];
}

int qc_worker_release(qc_worker_t *worker, const char *id, int attempt)
{
    int i = s_find_held(worker, id, attempt);
    if (i < 0)
        return -1;
    worker->held[i] = worker->held[--worker->held_count];
    return 0;
}

void qc_dispatch_orphan_add(qc_dispatch_t *self, int64_t seq, const char *id, int attempt,
                            int64_t deadline_mono_ms)
{
    s_orphan_t *orphan = calloc(1, sizeof *orphan);
    if (!orphan)
        return;
    orphan->job.seq = seq;
    snprintf(orphan->job.id, sizeof orphan->job.id, "%s", id);
    orphan->job.attempt = attempt;
    orphan->deadline_mono_ms = deadline_mono_ms;
    zlistx_add_end(self->orphans, orphan);
}

int qc_dispatch_orphan_take(qc_dispatch_t *self, const char *id, int attempt, int64_t *seq)
{
    for (s_orphan_t *o = zlistx_first(self->orphans); o; o = zlistx_next(self->orphans)) {
        if (o->job.attempt == attempt && strcmp(o->job.id, id) == 0) {
            *seq = o->job.seq;
            zlistx_delete(self->orphans, zlistx_cursor(self->orphans));
            return 0;
        }
    }
    return -1;
}

int qc_dispatch_orphan_expired(qc_dispatch_t *self, int64_t now_mono_ms, qc_held_t *out)
{
    for (s_orphan_t *o = zlistx_first(self->orphans); o; o = zlistx_next(self->orphans)) {
        if (o->deadline_mono_ms <= now_mono_ms) {
            *out = o->job;
            zlistx_delete(self->orphans, zlistx_cursor(self->orphans));
            return 0;
        }
    }
    return -1;
}

int64_t qc_dispatch_orphan_deadline(qc_dispatch_t *self)
{
    int64_t earliest = -1;
    for (s_orphan_t *o = zlistx_first(self->orphans); o; o = zlistx_next(self->orphans))
        if (earliest < 0 || o->deadline_mono_ms < earliest)
            earliest = o->deadline_mono_ms;
    return earliest;
}

void qc_dispatch_orphans_clear(qc_dispatch_t *self)
{
    zlistx_purge(self->orphans);
}
