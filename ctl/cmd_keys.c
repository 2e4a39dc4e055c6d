/* Remote access: invite (a token for another machine), join (this machine
 * as a client of a remote broker), keys list / revoke. The broker does the
 * work (broker/enroll.c); the CLI never touches authorized/ or the invite
 * book. */
#include "ctl.h"
#include "queuectl/clock.h"
#include "queuectl/curve.h"
#include "queuectl/join.h"
#include "queuectl/parse.h"
#include "queuectl/proto.h"

#include <string.h>
#include <unistd.h>

#define S_JOIN_TIMEOUT_MS 10000

int qc_cmd_invite(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {
        {"role", 0, 1}, {"ttl", 0, 1}, {"uses", 0, 1}, {"address", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *role = qc_flags_value(flags, "role"), *ttl = qc_flags_value(flags, "ttl");
    const char *uses_text = qc_flags_value(flags, "uses");
    const char *address = qc_flags_value(flags, "address");
    int args = qc_flags_argc(flags);
    qc_flags_destroy(&flags); /* the strings point into argv */
    if (args > 0)
        return qc_ctl_usage_error("invite: no arguments, only flags (see queuectl invite --help)");
    if (!role || (strcmp(role, "worker") != 0 && strcmp(role, "client") != 0))
        return qc_ctl_usage_error("invite: --role worker or --role client, please");
    int64_t ttl_ms = 3600 * 1000, uses = 1;
    if (ttl && (qc_parse_duration_ms(ttl, &ttl_ms) != 0 || ttl_ms < 1000 ||
                ttl_ms > (int64_t)30 * 24 * 3600 * 1000))
        return qc_ctl_usage_error("invite: --ttl must be a duration from 1s to 30d (e.g. 1h), "
                                  "not \"%s\"",
                                  ttl);
    if (uses_text && qc_parse_int(uses_text, 1, 1000, &uses) != 0)
        return qc_ctl_usage_error("invite: --uses must be a whole number from 1 to 1000, not "
                                  "\"%s\"",
                                  uses_text);
    if (address && !*address)
        return qc_ctl_usage_error("invite: --address needs a host name or IP address");
    cJSON *request = qc_ctl_request("invite");
    cJSON_AddStringToObject(request, "role", role);
    cJSON_AddNumberToObject(request, "ttl_s", (double)(ttl_ms / 1000));
    cJSON_AddNumberToObject(request, "uses", (double)uses);
    if (address)
        cJSON_AddStringToObject(request, "address", address);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    if (ctl->json) {
        cJSON_DeleteItemFromObject(reply, "ok");
        qc_out_json(reply);
    } else {
        printf("%s\n", qc_out_text(reply, "token", ""));
        if (isatty(STDERR_FILENO)) {
            int64_t n = 1;
            qc_json_int(reply, "uses", &n);
            fprintf(stderr,
                    "# on the new machine (valid until %s, %lld use%s; broker %s):\n"
                    "#   %s TOKEN\n",
                    qc_out_text(reply, "expires_at", "?"), (long long)n, n == 1 ? "" : "s",
                    qc_out_text(reply, "endpoint", "?"),
                    strcmp(role, "worker") == 0 ? "queuectl-worker --join" : "queuectl join");
        }
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_join(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"name", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *text = qc_flags_arg(flags, 0), *name = qc_flags_value(flags, "name");
    int args = qc_flags_argc(flags);
    qc_flags_destroy(&flags);
    if (args != 1)
        return qc_ctl_usage_error("join: give the TOKEN that 'queuectl invite' printed on the "
                                  "broker's machine");
    if (ctl->endpoint_flag || ctl->curve_key || ctl->server_key || ctl->insecure)
        return qc_ctl_usage_error("join: the token names the broker and its key: leave out "
                                  "--broker, --curve-key, --server-key and --insecure");
    qc_token_t token;
    char err[512], key_path[4200], enrolled[128];
    if (qc_token_decode(text, &token, err, sizeof err) != 0)
        return qc_ctl_usage_error("join: %s", err);
    if (qc_join_prepare(&token, key_path, sizeof key_path, err, sizeof err) != 0) {
        fprintf(stderr, "queuectl: join: %s\n", err);
        return QC_CTL_REFUSED;
    }
    /* A client's token makes this machine a client; a worker's enrolls the
     * home's worker key without running a worker (for a service's home). */
    int timeout_ms = ctl->timeout_ms > S_JOIN_TIMEOUT_MS ? ctl->timeout_ms : S_JOIN_TIMEOUT_MS;
    int status = qc_join_enroll(&token, key_path, name, timeout_ms, enrolled, sizeof enrolled, err,
                                sizeof err);
    if (status == 0 && qc_join_save(&token, err, sizeof err) != 0) {
        fprintf(stderr, "queuectl: join: enrolled, but %s\n", err);
        return QC_CTL_REFUSED;
    }
    if (status != 0) {
        fprintf(stderr, "queuectl: join: %s\n", err);
        return status;
    }
    if (ctl->json) {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "name", enrolled);
        cJSON_AddStringToObject(out, "role", token.role);
        cJSON_AddStringToObject(out, "endpoint", token.endpoint);
        qc_out_json(out);
        cJSON_Delete(out);
    } else if (strcmp(token.role, "worker") == 0) {
        printf("joined the broker at %s as worker %s; 'queuectl-worker' (or the "
               "queuectl-worker@ service) now connects there with no flags\n",
               token.endpoint, enrolled);
    } else {
        printf("joined the broker at %s as client %s; queuectl now talks to it (no flags "
               "needed)\n",
               token.endpoint, enrolled);
    }
    return QC_CTL_OK;
}

static int s_keys_list(qc_ctl_t *ctl, int argc, char **argv)
{
    cJSON *reply;
    const cJSON *keys;
    int rc = qc_ctl_list(ctl, argc, argv, "keys.list", "keys", &reply, &keys);
    if (rc != QC_CTL_OK || !reply)
        return rc;
    static const char *const header[] = {"ROLE", "NAME", "KEY", "ENROLLED", "INVITE"};
    int rows = cJSON_GetArraySize(keys);
    const char **cells = calloc((size_t)(rows ? rows : 1) * 5, sizeof *cells);
    int r = 0;
    const cJSON *key;
    cJSON_ArrayForEach(key, keys)
    {
        if (!cells)
            break;
        cells[r * 5 + 0] = qc_out_text(key, "role", "?");
        cells[r * 5 + 1] = qc_out_text(key, "name", "?");
        cells[r * 5 + 2] = qc_out_text(key, "key", "?");
        cells[r * 5 + 3] = qc_out_text(key, "enrolled_at", "-");
        cells[r * 5 + 4] = qc_out_text(key, "invite", "(by hand)");
        r++;
    }
    if (rows == 0)
        printf("no keys: nothing may connect over tcp yet (see queuectl invite)\n");
    else if (cells)
        qc_out_table(header, 5, cells, r);
    free(cells);
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

static int s_keys_revoke(qc_ctl_t *ctl, int argc, char **argv)
{
    static const qc_flag_t table[] = {{"role", 0, 1}, {NULL, 0, 0}};
    qc_flags_t *flags;
    int rc = qc_ctl_parse(ctl, table, argc, argv, NULL, &flags);
    if (rc != QC_CTL_OK)
        return rc;
    const char *name = qc_flags_arg(flags, 0), *role = qc_flags_value(flags, "role");
    int args = qc_flags_argc(flags);
    qc_flags_destroy(&flags);
    if (args != 1)
        return qc_ctl_usage_error("keys revoke: give one NAME (see queuectl keys list)");
    if (role && strcmp(role, "worker") != 0 && strcmp(role, "client") != 0)
        return qc_ctl_usage_error("keys revoke: --role must be worker or client");
    cJSON *request = qc_ctl_request("keys.revoke");
    cJSON_AddStringToObject(request, "name", name);
    if (role)
        cJSON_AddStringToObject(request, "role", role);
    cJSON *reply;
    if ((rc = qc_ctl_call(ctl, request, &reply)) != QC_CTL_OK)
        return rc;
    if (ctl->json) {
        cJSON_DeleteItemFromObject(reply, "ok");
        qc_out_json(reply);
    } else {
        int64_t dropped = 0;
        qc_json_int(reply, "workers_dropped", &dropped);
        printf("revoked %s key %s (%s)", qc_out_text(reply, "role", "?"), name,
               qc_out_text(reply, "key", "?"));
        if (dropped > 0)
            printf("; %lld connected worker%s dropped, %s jobs retried", (long long)dropped,
                   dropped == 1 ? "" : "s", dropped == 1 ? "its" : "their");
        printf("\n");
    }
    cJSON_Delete(reply);
    return QC_CTL_OK;
}

int qc_cmd_keys(qc_ctl_t *ctl, int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return qc_ctl_usage_error("keys: use 'keys list' or 'keys revoke NAME'");
    if (strcmp(argv[1], "list") == 0) {
        ctl->command = "keys list";
        return s_keys_list(ctl, argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "revoke") == 0) {
        ctl->command = "keys revoke";
        return s_keys_revoke(ctl, argc - 1, argv + 1);
    }
    return qc_ctl_usage_error("keys: unknown subcommand \"%s\" (use list or revoke)", argv[1]);
}
