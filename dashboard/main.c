/* queuectl-dashboard: parse flags, start the hub, the broker connection,
 * the feed and the HTTP server, wait for SIGINT/SIGTERM, stop them in
 * reverse order. */
#include "api.h"
#include "feed.h"
#include "http.h"
#include "hub.h"
#include "upstream.h"
#include "queuectl/log.h"
#include "queuectl/parse.h"
#include "queuectl/paths.h"
#include "queuectl/protocol.h"

#include <arpa/inet.h>
#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define S_EXIT_OK 0
#define S_EXIT_RUNTIME 1 /* cannot listen, out of memory */
#define S_EXIT_USAGE 2

static void s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: queuectl-dashboard [--listen HOST:PORT] [--broker ENDPOINT] [--events ENDPOINT]\n"
        "                          [--token-file FILE | --insecure] [--web-dir DIR]\n"
        "                          [--timeout D] [--curve-key F] [--server-key K] "
        "[--broker-insecure]\n"
        "\n"
        "Serves the queuectl web dashboard, the REST API under /api and Prometheus metrics\n"
        "at /metrics (docs/API.md). 'queuectl dashboard' runs this program.\n"
        "\n"
        "  --listen HOST:PORT  address to serve on (default 127.0.0.1:8080; port 0 picks one)\n"
        "  --broker EP         the broker's client endpoint (default $QUEUECTL_BROKER, else\n"
        "                      ipc://$QUEUECTL_HOME/client.sock)\n"
        "  --events EP         the broker's event stream (default: what the broker says, else\n"
        "                      events.sock beside an ipc broker endpoint)\n"
        "  --token-file FILE   require this bearer token on every request; needed to listen\n"
        "                      on anything but loopback\n"
        "  --insecure          listen on a non-loopback address WITHOUT a token (anyone who\n"
        "                      reaches it can run commands on your workers)\n"
        "  --web-dir DIR       serve the page from DIR (default the built-in location)\n"
        "  --timeout D         how long to wait for the broker per request (default 2s)\n"
        "  --curve-key F       our secret key for a tcp broker (default\n"
        "                      $QUEUECTL_HOME/keys/client.cert_secret, or $QUEUECTL_CURVE_KEY)\n"
        "  --server-key K      the broker's public key: a cert file or 40-char Z85 key\n"
        "  --broker-insecure   talk to a tcp broker without CURVE (broker run with --insecure)\n"
        "  --help, --version\n"
        "\n"
        "SIGINT or SIGTERM stop it. The first line on stdout is the URL it serves.\n"
        "exit codes: 0 stopped by a signal, 1 cannot listen, 2 usage\n");
}

static int s_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int s_usage_error(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "queuectl-dashboard: ");
    vfprintf(stderr, fmt, args);
    fprintf(stderr, "\n");
    va_end(args);
    return S_EXIT_USAGE;
}

typedef struct {
    const char *listen;
    const char *broker;
    const char *events;
    const char *token_file;
    const char *web_dir;
    int insecure; /* serve non-loopback without a token */
    qc_upstream_config_t upstream;
} s_options_t;

/* 0 to go on, -1 after --help/--version, or an exit code. */
static int s_parse_options(int argc, char **argv, s_options_t *opt)
{
    enum {
        OPT_LISTEN = 1,
        OPT_BROKER,
        OPT_EVENTS,
        OPT_TOKEN_FILE,
        OPT_INSECURE,
        OPT_WEB_DIR,
        OPT_TIMEOUT,
        OPT_CURVE_KEY,
        OPT_SERVER_KEY,
        OPT_BROKER_INSECURE,
        OPT_HELP,
        OPT_VERSION
    };
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"broker", required_argument, NULL, OPT_BROKER},
        {"events", required_argument, NULL, OPT_EVENTS},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"web-dir", required_argument, NULL, OPT_WEB_DIR},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"curve-key", required_argument, NULL, OPT_CURVE_KEY},
        {"server-key", required_argument, NULL, OPT_SERVER_KEY},
        {"broker-insecure", no_argument, NULL, OPT_BROKER_INSECURE},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *name = argv[optind - 1];
        if (optarg && optarg == argv[optind - 1] && optind >= 2)
            name = argv[optind - 2]; /* "--flag value": name the flag */
        if (optarg && !*optarg)
            return s_usage_error("%.*s needs a value (see --help)", (int)strcspn(name, "="), name);
        switch (c) {
        case OPT_LISTEN:
            opt->listen = optarg;
            break;
        case OPT_BROKER:
            opt->broker = optarg;
            break;
        case OPT_EVENTS:
            opt->events = optarg;
            break;
        case OPT_TOKEN_FILE:
            opt->token_file = optarg;
            break;
        case OPT_INSECURE:
            opt->insecure = 1;
            break;
        case OPT_WEB_DIR:
            opt->web_dir = optarg;
            break;
        case OPT_TIMEOUT: {
            int64_t ms;
            if (qc_parse_duration_ms(optarg, &ms) != 0 || ms < 1 || ms > 3600000)
                return s_usage_error("invalid --timeout \"%s\": use a duration such as 5s", optarg);
            opt->upstream.timeout_ms = (int)ms;
            break;
        }
        case OPT_CURVE_KEY:
            opt->upstream.curve_key = optarg;
            break;
        case OPT_SERVER_KEY:
            opt->upstream.server_key = optarg;
            break;
        case OPT_BROKER_INSECURE:
            opt->upstream.insecure = 1;
            break;
        case OPT_HELP:
        case 'h':
            s_usage(stdout);
            return -1;
        case OPT_VERSION:
            printf("queuectl-dashboard %s\n", QC_VERSION);
            return -1;
        case ':':
            return s_usage_error("%s needs a value (see --help)", name);
        default:
            return s_usage_error("unknown option \"%s\" (see --help)", name);
        }
    }
    if (optind < argc)
        return s_usage_error("unexpected argument \"%s\" (see --help)", argv[optind]);
    return 0;
}

/* Parses HOST:PORT (HOST may be [v6]) into config. 0 or a usage error. */
static int s_parse_listen(const char *text, qc_http_config_t *config)
{
    char buf[300];
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || strlen(text) >= sizeof buf)
        goto bad;
    int64_t port;
    if (qc_parse_int(colon + 1, 0, 65535, &port) != 0)
        goto bad;
    snprintf(buf, sizeof buf, "%.*s", (int)(colon - text), text);
    char *name = buf;
    if (name[0] == '[') {
        size_t n = strlen(name);
        if (n < 3 || name[n - 1] != ']')
            goto bad;
        name[n - 1] = '\0';
        name++;
    }
    if (strlen(name) >= sizeof config->listen_host)
        goto bad;
    memcpy(config->listen_host, name, strlen(name) + 1); /* fits: checked above */
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *found = NULL;
    char port_buf[8];
    snprintf(port_buf, sizeof port_buf, "%d", (int)port);
    if (getaddrinfo(name, port_buf, &hints, &found) != 0 || !found)
        return s_usage_error("--listen \"%s\": cannot resolve \"%s\"", text, name);
    memcpy(&config->addr, found->ai_addr, found->ai_addrlen);
    config->addr_len = found->ai_addrlen;
    freeaddrinfo(found);
    if (config->addr.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&config->addr;
        config->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&config->addr;
        config->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    return 0;
bad:
    return s_usage_error("--listen \"%s\": expected HOST:PORT, e.g. 127.0.0.1:8080 or "
                         "[::1]:8080",
                         text);
}

static int s_dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Checks the flags together and fills the HTTP and broker settings. */
static int s_configure(s_options_t *opt, qc_http_config_t *http)
{
    int rc = s_parse_listen(opt->listen, http);
    if (rc != 0)
        return rc;
    if (opt->token_file && opt->insecure)
        return s_usage_error("--insecure and --token-file exclude each other");
    if (opt->web_dir && !s_dir_exists(opt->web_dir))
        return s_usage_error("--web-dir \"%s\" is not a directory", opt->web_dir);
    if (!http->loopback && !opt->token_file && !opt->insecure)
        return s_usage_error(
            "--listen %s is not a loopback address: pass --token-file FILE (a bearer token), or "
            "--insecure to serve it to anyone who can reach it",
            opt->listen);
    char err[512];
    if (opt->token_file && qc_http_read_token(opt->token_file, http, err, sizeof err) != 0)
        return s_usage_error("%s", err);
    if (qc_client_endpoint(opt->broker, opt->upstream.endpoint, sizeof opt->upstream.endpoint) != 0)
        return s_usage_error("cannot work out the broker endpoint (QUEUECTL_HOME too long?)");
    snprintf(http->web_dir, sizeof http->web_dir, "%s",
             opt->web_dir                     ? opt->web_dir
             : s_dir_exists(QC_WEB_DIR_BUILD) ? QC_WEB_DIR_BUILD
                                              : QC_WEB_DIR_INSTALL);
    return 0;
}

int main(int argc, char **argv)
{
    qc_log_init("dashboard");
    qc_log_set_level(QC_LOG_WARN);
    s_options_t opt = {.listen = "127.0.0.1:8080", .upstream.timeout_ms = QC_CLIENT_TIMEOUT_MS};
    static qc_http_config_t http_config; /* large: not on the stack */
    int rc = s_parse_options(argc, argv, &opt);
    if (rc == 0)
        rc = s_configure(&opt, &http_config);
    if (rc != 0)
        return rc < 0 ? S_EXIT_OK : rc;
    if (!http_config.loopback && opt.insecure)
        fprintf(stderr,
                "\n"
                "queuectl-dashboard: WARNING: serving %s WITHOUT AUTHENTICATION (--insecure).\n"
                "queuectl-dashboard: WARNING: anyone who can reach this address can enqueue\n"
                "queuectl-dashboard: WARNING: jobs, i.e. run any command on your workers.\n"
                "\n",
                opt.listen);

    /* Signals go to the main thread only: block them before any thread starts. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    zsys_handler_set(NULL);
    zsys_init();

    rc = S_EXIT_RUNTIME;
    qc_hub_t *hub = qc_hub_new();
    qc_upstream_t *upstream = hub ? qc_upstream_new(&opt.upstream) : NULL;
    qc_api_t *api = upstream ? qc_api_new(upstream, hub) : NULL;
    qc_feed_t *feed = NULL;
    qc_http_t *http = NULL;
    if (!api) {
        fprintf(stderr, "queuectl-dashboard: out of memory\n");
        goto done;
    }
    char events[1024];
    qc_feed_resolve_endpoint(upstream, opt.events, events, sizeof events);
    http = qc_http_new(&http_config, api, hub);
    if (!http) {
        fprintf(stderr, "queuectl-dashboard: cannot listen on %s: %s\n", opt.listen,
                errno ? strerror(errno) : "libmicrohttpd refused");
        goto done;
    }
    feed = qc_feed_new(hub, upstream, events);
    if (!feed)
        fprintf(stderr, "queuectl-dashboard: warning: no live updates (cannot start a thread)\n");
    int v6 = http_config.addr.ss_family == AF_INET6;
    printf("queuectl dashboard: http://%s%s%s:%d/ (broker %s, events %s)\n", v6 ? "[" : "",
           http_config.listen_host, v6 ? "]" : "", qc_http_port(http), opt.upstream.endpoint,
           events[0] ? events : "none: polling");
    fflush(stdout);

    int sig = 0;
    sigset_t wait_for;
    sigemptyset(&wait_for);
    sigaddset(&wait_for, SIGINT);
    sigaddset(&wait_for, SIGTERM);
    sigwait(&wait_for, &sig);
    fprintf(stderr, "queuectl-dashboard: stopping (%s)\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = S_EXIT_OK;

done:
    /* Reverse order: streams end, connections close (their threads' broker
     * clients with them), the feed leaves, then what they shared goes. */
    if (hub)
        qc_hub_stop(hub);
    qc_http_destroy(&http);
    qc_feed_destroy(&feed);
    qc_api_destroy(&api);
    qc_upstream_destroy(&upstream);
    qc_hub_destroy(&hub);
    return rc;
}
