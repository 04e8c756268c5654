/*
 * `kpi serve`: the HTTP server (src/api) on the database, and `kpi token create|list|revoke`: the
 * API tokens machines use to call it. A token is printed once, when it is created; the database
 * keeps only its hash.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "api/server.h"
#include "base/crypto.h"
#include "base/str.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/time.h"

int cmd_serve(struct cli *c, int argc, char **argv)
{
    enum { OPT_LISTEN = OPT_FIRST_COMMAND_OPTION, OPT_THREADS, OPT_LOG, OPT_MAX_BODY, OPT_MAX_BATCH, OPT_ROUTES };
    static const struct option opts[] = {{"listen", required_argument, NULL, OPT_LISTEN},
                                         {"threads", required_argument, NULL, OPT_THREADS},
                                         {"access-log", required_argument, NULL, OPT_LOG},
                                         {"max-body", required_argument, NULL, OPT_MAX_BODY},
                                         {"max-batch", required_argument, NULL, OPT_MAX_BATCH},
                                         {"print-routes", no_argument, NULL, OPT_ROUTES},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    const char *env_listen = getenv("KPI_LISTEN");
    struct api_options o = {.listen = env_listen && *env_listen ? env_listen : "127.0.0.1:8080",
                            .body_max = API_BODY_MAX_DEFAULT,
                            .batch_max = API_BATCH_MAX_DEFAULT,
                            .access_log = stderr};
    const char *log_path = NULL;
    bool print_routes = false;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        int64_t n;
        switch (opt) {
        case OPT_LISTEN:
            o.listen = optarg;
            break;
        case OPT_THREADS:
            if (kpi_parse_int64(optarg, strlen(optarg), 1, 256, &n) < 0)
                return cli_usage(c, "threads: '%s' is not a number from 1 to 256", optarg);
            o.threads = (unsigned)n;
            break;
        case OPT_LOG:
            log_path = optarg;
            break;
        case OPT_MAX_BODY:
            if (kpi_parse_int64(optarg, strlen(optarg), 1024, (int64_t)1 << 32, &n) < 0)
                return cli_usage(c, "max-body: '%s' is not a number of bytes from 1024 to 4294967296", optarg);
            o.body_max = (size_t)n;
            break;
        case OPT_MAX_BATCH:
            if (kpi_parse_int64(optarg, strlen(optarg), 1, 10000000, &n) < 0)
                return cli_usage(c, "max-batch: '%s' is not a number of points from 1 to 10000000", optarg);
            o.batch_max = (size_t)n;
            break;
        case OPT_ROUTES:
            print_routes = true;
            break;
        }
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    if (print_routes) {
        for (size_t i = 0; i < api_n_routes; i++)
            printf("%s %s\n", api_method_name(api_routes[i].method), api_routes[i].pattern);
        return EXIT_OK;
    }
    FILE *log = NULL;
    if (log_path && strcmp(log_path, "off") == 0) {
        o.access_log = NULL;
    } else if (log_path && strcmp(log_path, "-") != 0) {
        log = fopen(log_path, "a");
        if (!log)
            return cli_fail(c, EXIT_RUNTIME, "access-log: cannot open '%s': %s", log_path, strerror(errno));
        o.access_log = log;
    }
    o.db_path = c->db_path;
    struct kpi_diag diag = {""};
    int r = api_serve(&o, &diag);
    if (log)
        fclose(log);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    return EXIT_OK;
}

static int token_create(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
    }
    if (optind >= argc)
        return cli_usage(c, "missing token name");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *name = argv[optind];
    if (!kpi_token_name_valid(name))
        return cli_fail(c, EXIT_RUNTIME, "name: '%s' must be 1 to 64 letters, digits, '.', '_' or '-'", name);
    if (kpi_crypto_init() < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot initialise libsodium");
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    char secret[KPI_TOKEN_TEXT_SIZE];
    kpi_token_generate(secret, sizeof(secret));
    uint8_t hash[KPI_HASH_SIZE];
    kpi_hash(secret, strlen(secret), hash);
    int r = kpi_store_token_add(c->store, name, hash, kpi_clock_wall_ms());
    if (r == -EEXIST)
        return cli_fail(c, EXIT_RUNTIME, "a token named '%s' already exists (revoke it first: kpi token revoke %s)", name, name);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot store the token: %s", kpi_strerror(r));
    if (c->json)
        printf("{\"name\": \"%s\", \"token\": \"%s\"}\n", name, secret);
    else
        printf("%s\n", secret);
    if (!c->json)
        fprintf(stderr, "kpi token: created '%s'; this is the only time the token is shown\n", name);
    return EXIT_OK;
}

static int token_list(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_token *list;
    size_t n;
    int r = kpi_store_tokens_list(c->store, &list, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list tokens: %s", kpi_strerror(r));
    if (c->json)
        printf("[");
    for (size_t i = 0; i < n; i++) {
        char created[40];
        kpi_instant_format(list[i].created_ms, created, sizeof(created));
        if (c->json)
            printf("%s{\"name\": \"%s\", \"created\": \"%s\"}", i ? ", " : "", list[i].name, created);
        else
            printf("%-32s created %s\n", list[i].name, created);
    }
    if (c->json)
        printf("]\n");
    else if (n == 0)
        printf("no tokens (create one with 'kpi token create NAME')\n");
    free(list);
    return EXIT_OK;
}

static int token_revoke(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
    }
    if (optind >= argc)
        return cli_usage(c, "missing token name");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int r = kpi_store_token_remove(c->store, argv[optind]);
    if (r == -ENOENT)
        return cli_fail(c, EXIT_RUNTIME, "no token named '%s'", argv[optind]);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot revoke the token: %s", kpi_strerror(r));
    if (!c->json)
        printf("revoked %s\n", argv[optind]);
    return EXIT_OK;
}

int cmd_token(struct cli *c, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage(c, "expected create, list or revoke");
    if (strcmp(argv[1], "create") == 0)
        return token_create(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return token_list(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "revoke") == 0)
        return token_revoke(c, argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0)
        return cli_common_option(c, OPT_HELP, NULL) < 0 ? EXIT_OK : EXIT_USAGE;
    return cli_usage(c, "unknown subcommand '%s' (expected create, list or revoke)", argv[1]);
}
