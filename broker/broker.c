#include "broker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

cJSON *qc_broker_error(const char *code, const char *fmt, ...)
{
    char message[512];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    return qc_outbox_error(code, message);
}

qc_broker_t *qc_broker_new(qc_store_t *store, const qc_clock_t *clock)
{
    qc_broker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->clock = clock ? *clock : qc_clock_system;
    self->heartbeat_ms = QC_HEARTBEAT_MS;
    self->liveness_ms = QC_LIVENESS_MS;
    self->next_due_ms = -1;
    self->maybe_due = 1;
    self->started_wall_ms = qc_broker_wall_ms(self);
    qc_config_defaults(&self->config);
    self->dispatch = qc_dispatch_new();
    self->outbox = qc_outbox_new();
    if (!self->dispatch || !self->outbox)
        qc_broker_destroy(&self);
    return self;
}

void qc_broker_destroy(qc_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    qc_broker_t *self = *self_p;
    qc_outbox_destroy(&self->outbox);
    qc_dispatch_destroy(&self->dispatch);
    free(self);
    *self_p = NULL;
}

int64_t qc_broker_wall_ms(const qc_broker_t *self)
{
    return self->clock.wall_ms(self->clock.arg);
}

int64_t qc_broker_mono_ms(const qc_broker_t *self)
{
    return self->clock.mono_ms(self->clock.arg);
}

cJSON *qc_broker_ok(void)
{
    cJSON *reply = cJSON_CreateObject();
    cJSON_AddBoolToObject(reply, "ok", 1);
    return reply;
}

cJSON *qc_broker_storage_error(qc_broker_t *broker)
{
    return qc_broker_error(QC_E_STORAGE, "database error: %s", qc_store_errmsg(broker->store));
}

cJSON *qc_broker_add_cursor(cJSON *reply, int64_t next_cursor)
{
    if (next_cursor > 0) {
        char text[24];
        snprintf(text, sizeof text, "%lld", (long long)next_cursor);
        cJSON_AddStringToObject(reply, "next_cursor", text);
    } else {
        cJSON_AddNullToObject(reply, "next_cursor");
    }
    return reply;
}
