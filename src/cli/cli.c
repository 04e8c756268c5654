/*
 * Helpers shared by every command: error reporting with the command's name, opening the database
 * (or, with --server, the remote store that speaks the server's HTTP API) and the organisation
 * calendar, the common --db/--server/--token/--json/--help options, and day arguments.
 */
#include "base/clock.h"
#include "cli/cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <time.h>
#include <string.h>

#include "kpi/time.h"
#include "remote/remote.h"

int cli_fail(struct cli *c, int exit_code, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "kpi %s: %s", c->command ? c->command : "", msg);
    /* Remote mode: the server's own words about the request that failed, unless the message says
     * it already (a missing KPI or a taken key is already told by the command). */
    int code;
    const char *why = kpi_store_http_error(c->store, &code);
    if (code != 0 && code != -ENOENT && code != -EEXIST && why[0] && !strstr(msg, why))
        fprintf(stderr, " (%s)", why);
    fputc('\n', stderr);
    return exit_code;
}

int cli_usage(struct cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kpi %s: ", c->command ? c->command : "");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'kpi help %s' for usage.\n", c->command ? c->command : "");
    va_end(ap);
    return EXIT_USAGE;
}

const struct cli_command *cli_find_command(const char *name)
{
    for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++)
        if (strcmp(cmd->name, name) == 0)
            return cmd;
    return NULL;
}

static int open_store(struct cli *c, bool create)
{
    struct kpi_diag diag = {""};
    int r;
    if (c->server_given && c->db_given)
        return cli_usage(c, "--db and --server exclude each other: give the database file or the server, not both");
    if (c->server && c->local_only)
        return cli_usage(c,
                         "'%s' works on a database file only and cannot run against a server: give --db FILE instead of "
                         "--server",
                         c->local_only);
    if (c->server && !c->local_only) {
        if (!c->token || !*c->token)
            return cli_usage(c, "--server needs an API token: give --token TOKEN or set KPI_TOKEN (tokens are made with "
                                "'kpi token create NAME' on the server's database)");
        r = kpi_store_open_http(c->server, c->token, &c->store, &diag);
        if (r == -EINVAL && diag.msg[0] && (strncmp(diag.msg, "server:", 7) == 0 || strncmp(diag.msg, "token:", 6) == 0))
            return cli_usage(c, "%s", diag.msg);
        c->db_path = c->server;
    } else {
        r = kpi_store_open_sqlite(c->db_path, create, &c->store, &diag);
    }
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg[0] ? diag.msg : kpi_strerror(r));
    r = kpi_store_calendar(c->store, &c->cal, &diag);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    c->have_cal = true;
    return EXIT_OK;
}

int cli_open(struct cli *c)
{
    return open_store(c, false);
}

int cli_open_create(struct cli *c)
{
    return open_store(c, true);
}

void cli_close(struct cli *c)
{
    if (c->have_cal)
        kpi_store_calendar_done(&c->cal);
    c->have_cal = false;
    c->store = kpi_store_close(c->store);
}

int cli_print_buf(struct cli *c, struct kpi_buf *b)
{
    fputs(kpi_buf_str(b), stdout);
    fputc('\n', stdout);
    kpi_buf_free(b);
    (void)c;
    return EXIT_OK;
}

int64_t cli_today(struct cli *c)
{
    return kpi_calendar_day_of(&c->cal, kpi_clock_wall_ms());
}

int cli_date_arg(struct cli *c, const char *field, const char *text, int64_t *ret_day)
{
    if (kpi_date_parse(text, strlen(text), ret_day) < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s: '%s' is not a date (YYYY-MM-DD)", field, text);
    return EXIT_OK;
}

int cli_parse_day(struct cli *c, const char *text, bool end, int64_t *ret_day)
{
    int64_t day;
    if (kpi_date_parse(text, strlen(text), &day) == 0) {
        *ret_day = day;
        return 0;
    }
    struct kpi_period p;
    if (kpi_period_parse(&c->cal, text, strlen(text), &p) == 0) {
        *ret_day = end ? p.last_day : p.first_day;
        return 0;
    }
    return -EINVAL;
}

int cli_common_option(struct cli *c, int opt, const char *arg)
{
    switch (opt) {
    case OPT_DB:
        c->db_path = arg;
        c->db_given = true;
        if (!c->server_given)
            c->server = NULL; /* an explicit file wins over $KPI_SERVER */
        return 1;
    case OPT_SERVER:
        c->server = arg;
        c->server_given = true;
        return 1;
    case OPT_TOKEN:
        c->token = arg;
        return 1;
    case OPT_JSON:
        c->json = true;
        return 1;
    case OPT_HELP: {
        const struct cli_command *cmd = cli_find_command(c->command);
        if (cmd)
            fputs(cmd->usage, stdout);
        return -1;
    }
    default:
        return 0;
    }
}

int cli_next_option(struct cli *c, int argc, char **argv, const struct option *opts, int *ret_exit)
{
    if (!c->parsing_options) {
        c->parsing_options = true;
        optind = 1;
        opterr = 0;
    }
    for (;;) {
        int opt = getopt_long(argc, argv, "", opts, NULL);
        if (opt == -1) {
            c->parsing_options = false;
            return CLI_OPTS_DONE;
        }
        if (opt == '?') {
            c->parsing_options = false;
            if (optopt)
                *ret_exit = cli_usage(c, "option '%s' needs a value", argv[optind - 1]);
            else
                *ret_exit = cli_usage(c, "unknown option '%s'", argv[optind - 1]);
            return CLI_OPTS_EXIT;
        }
        int handled = cli_common_option(c, opt, optarg);
        if (handled < 0) {
            c->parsing_options = false;
            *ret_exit = EXIT_OK;
            return CLI_OPTS_EXIT;
        }
        if (handled == 0)
            return opt;
    }
}
