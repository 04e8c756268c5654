/*
 * Shared pieces of the `kpi` command-line tool: the per-invocation context, the command table
 * entry, option helpers and error reporting. Each command family lives in its own cmd_*.c file.
 *
 * Exit codes: 0 success, 1 runtime error (bad data, missing KPI, database failure), 2 usage error
 * (unknown option, missing argument).
 */
#ifndef KPI_CLI_H
#define KPI_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "base/buf.h"
#include "kpi/error.h"
#include "store/store.h"

#define EXIT_OK 0
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct cli {
    const char *db_path;    /* --db, $KPI_DB, ./kpi.db; in remote mode the server's URL (for messages) */
    bool db_given;          /* --db was given: $KPI_SERVER does not apply */
    const char *server;     /* --server URL (or $KPI_SERVER unless --db is given): use the HTTP API */
    bool server_given;      /* --server was given */
    const char *token;      /* --token, $KPI_TOKEN: the API token sent to the server */
    const char *local_only; /* set for commands that work on a database file only: what they are */
    bool json;              /* --json */
    const char *command;
    struct kpi_store *store;
    struct kpi_calendar cal;
    bool have_cal;
    bool parsing_options; /* cli_next_option has started on this command's argv */
};

struct cli_command {
    const char *name;
    int (*run)(struct cli *c, int argc, char **argv);
    const char *summary;
    const char *usage; /* full help text: usage line, description, options */
};

extern const struct cli_command cli_commands[];
const struct cli_command *cli_find_command(const char *name);

/* Prints "kpi COMMAND: message" to stderr and returns the exit code. */
int cli_fail(struct cli *c, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Usage error: the message plus "see 'kpi help COMMAND'". */
int cli_usage(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the database (without creating it) and loads the calendar. Returns 0 or an exit code.
 * With a server (--server, $KPI_SERVER) the store is the server's HTTP API instead
 * (remote/remote.h); commands marked local_only then fail with a usage error. */
int cli_open(struct cli *c);
int cli_open_create(struct cli *c);
void cli_close(struct cli *c);

/* Writes a buffer followed by a newline to stdout and frees it; returns an exit code. */
int cli_print_buf(struct cli *c, struct kpi_buf *b);

/* Today in the organisation's time zone (the calendar must be loaded). */
int64_t cli_today(struct cli *c);

/* Parses a YYYY-MM-DD argument; on error prints "FIELD: 'TEXT' is not a date (YYYY-MM-DD)" and
 * returns EXIT_RUNTIME, else EXIT_OK. */
int cli_date_arg(struct cli *c, const char *field, const char *text, int64_t *ret_day);

/* Parses a day given as YYYY-MM-DD or as a period label (the label's first or last day). */
int cli_parse_day(struct cli *c, const char *text, bool end, int64_t *ret_day);

/* Shared handling of --db/--server/--token/--json/--help inside each command's getopt loop. */
enum {
    OPT_DB = 1000,
    OPT_JSON,
    OPT_HELP,
    OPT_SERVER,
    OPT_TOKEN,
    OPT_FIRST_COMMAND_OPTION,
};
#define CLI_COMMON_OPTIONS                                                                                                         \
    {"db", required_argument, NULL, OPT_DB}, {"json", no_argument, NULL, OPT_JSON},                                                \
        {"server", required_argument, NULL, OPT_SERVER}, {"token", required_argument, NULL, OPT_TOKEN},                            \
    {                                                                                                                              \
        "help", no_argument, NULL, OPT_HELP                                                                                        \
    }
/* Handles a common option; returns 1 when handled, -1 when help was printed (exit 0). */
int cli_common_option(struct cli *c, int opt, const char *arg);

/* Option parsing shared by the commands: getopt_long over `opts` (ending with CLI_COMMON_OPTIONS
 * and {0}), handling --db, --json and --help itself. Returns the next command option's code (its
 * argument in optarg), CLI_OPTS_DONE when the options are over (argv[optind] is then the first
 * argument), or CLI_OPTS_EXIT when the command must return *ret_exit: 0 after --help, 2 after an
 * unknown option or a missing value (already reported). */
#define CLI_OPTS_DONE (-1)
#define CLI_OPTS_EXIT (-2)
struct option;
int cli_next_option(struct cli *c, int argc, char **argv, const struct option *opts, int *ret_exit);

int cmd_init(struct cli *c, int argc, char **argv);
int cmd_org(struct cli *c, int argc, char **argv);
int cmd_add(struct cli *c, int argc, char **argv);
int cmd_edit(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_list(struct cli *c, int argc, char **argv);
int cmd_archive(struct cli *c, int argc, char **argv);
int cmd_push(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_series(struct cli *c, int argc, char **argv);
int cmd_apply(struct cli *c, int argc, char **argv);
int cmd_dump(struct cli *c, int argc, char **argv);
int cmd_demo(struct cli *c, int argc, char **argv);
int cmd_review(struct cli *c, int argc, char **argv);
int cmd_actions(struct cli *c, int argc, char **argv);
int cmd_action(struct cli *c, int argc, char **argv);
int cmd_annotate(struct cli *c, int argc, char **argv);
int cmd_annotations(struct cli *c, int argc, char **argv);
int cmd_target(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_tree(struct cli *c, int argc, char **argv);
int cmd_forecast(struct cli *c, int argc, char **argv);
int cmd_anomalies(struct cli *c, int argc, char **argv);
int cmd_drivers(struct cli *c, int argc, char **argv);
int cmd_correlate(struct cli *c, int argc, char **argv);
int cmd_insights(struct cli *c, int argc, char **argv);
int cmd_serve(struct cli *c, int argc, char **argv);
int cmd_token(struct cli *c, int argc, char **argv);
int cmd_help(struct cli *c, int argc, char **argv);

#endif
