#include "deps.h"
#include "events.h"
#include "queuectl/clock.h"
#include "queuectl/log.h"
#include "queuectl/proto.h"

#define S_SHOWN_DEPENDENTS 100

/* A dependent's state changed: say so (event and log). */
static void s_changed(void *arg, const char *id, qc_state_t state, const char *reason)
{
    qc_broker_t *broker = arg;
    qc_events_job(broker, &(qc_job_event_t){.id = id, .state = state, .error = reason});
    if (state == QC_STATE_CANCELED)
        qc_info("job %s: canceled: %s", id, reason ? reason : "a dependency ended");
    else if (state == QC_STATE_PENDING)
        qc_info("job %s: its dependencies completed: pending", id);
    else
        qc_info("job %s: waiting for its dependencies again", id);
    if (state == QC_STATE_PENDING)
        broker->maybe_due = 1;
}

int qc_deps_settled(qc_broker_t *broker, const char *id)
{
    return qc_store_deps_settle(broker->store, id, qc_broker_wall_ms(broker), s_changed, broker);
}

int qc_deps_revived(qc_broker_t *broker, const char *id)
{
    return qc_store_deps_revive(broker->store, id, qc_broker_wall_ms(broker), s_changed, broker);
}

int qc_deps_annotate(qc_broker_t *broker, cJSON *job)
{
    const char *id = qc_json_string(job, "id");
    cJSON *deps = id ? qc_store_job_deps(broker->store, id, S_SHOWN_DEPENDENTS) : NULL;
    if (!deps)
        return -1;
    while (deps->child) {
        cJSON *item = cJSON_DetachItemViaPointer(deps, deps->child);
        cJSON_AddItemToObject(job, item->string, item);
    }
    cJSON_Delete(deps);
    return 0;
}
