/*
 * Entry point of the `kpi` tool: global options, then dispatch to a command of cli_commands
 * (commands.c). `kpi --help` lists the commands, `kpi help COMMAND` prints one command's help.
 * Where the data lives is decided here too: a database file (--db, $KPI_DB) or a running server
 * (--server and --token, $KPI_SERVER and $KPI_TOKEN; an explicit --db wins over $KPI_SERVER).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void print_overview(FILE *f)
{
    fprintf(f, "usage: kpi [--db FILE | --server URL --token TOKEN] COMMAND [OPTIONS] [ARGS]\n\n"
               "kpi tracks the few numbers that matter: KPIs with an owner, a target and a deadline.\n\n"
               "Commands:\n");
    for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++)
        fprintf(f, "  %-10s %s\n", cmd->name, cmd->summary);
    fprintf(f, "\nGlobal options (accepted before or after the command):\n"
               "  --db FILE       database file (default: $KPI_DB, else ./kpi.db)\n"
               "  --server URL    work against a running 'kpi serve' over its HTTP API instead of a file\n"
               "                  (default: $KPI_SERVER unless --db is given); init, serve and\n"
               "                  'token create' work on a database file only\n"
               "  --token TOKEN   API token for --server (default: $KPI_TOKEN; see 'kpi token')\n"
               "  --json          machine-readable output for read commands\n"
               "  --help          help for kpi or for the command\n"
               "  --version       print the version\n\n"
               "Exit codes: 0 success, 1 runtime error, 2 usage error.\n"
               "Run 'kpi help COMMAND' for the options of a command.\n");
}

int cmd_help(struct cli *c, int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stdout);
        return EXIT_OK;
    }
    const struct cli_command *cmd = cli_find_command(argv[1]);
    if (!cmd)
        return cli_usage(c, "unknown command '%s'", argv[1]);
    fputs(cmd->usage, stdout);
    return EXIT_OK;
}

/* What a command that works on a database file only is called in messages, or NULL when it can
 * run against a server. `serve` serves a file; `init` creates one; `token create` makes a secret
 * whose hash goes into the database (a server makes its own: POST /api/v1/tokens). */
static const char *local_only(int argc, char **argv)
{
    if (strcmp(argv[0], "init") == 0)
        return "kpi init";
    if (strcmp(argv[0], "serve") == 0)
        return "kpi serve";
    if (strcmp(argv[0], "token") == 0 && argc > 1 && strcmp(argv[1], "create") == 0)
        return "kpi token create";
    return NULL;
}

/* Takes --server and --token (with their values) out of the command's arguments, wherever they
 * are before a "--", so that every command accepts them after its name, including those that
 * parse their arguments by hand; notes an explicit --db (which the command itself reads) so that
 * $KPI_SERVER does not override it. Returns the new argument count. */
static int take_remote_options(struct cli *c, int argc, char **argv)
{
    int out = 1, i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if ((strcmp(a, "--server") == 0 || strcmp(a, "--token") == 0) && i + 1 < argc) {
            if (a[2] == 's') {
                c->server = argv[i + 1];
                c->server_given = true;
            } else {
                c->token = argv[i + 1];
            }
            i++;
            continue;
        }
        if (strncmp(a, "--server=", 9) == 0) {
            c->server = a + 9;
            c->server_given = true;
            continue;
        }
        if (strncmp(a, "--token=", 8) == 0) {
            c->token = a + 8;
            continue;
        }
        if (strcmp(a, "--db") == 0 || strncmp(a, "--db=", 5) == 0)
            c->db_given = true;
        argv[out++] = argv[i];
    }
    for (; i < argc; i++)
        argv[out++] = argv[i];
    argv[out] = NULL;
    return out;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    const char *env_db = getenv("KPI_DB");
    c.db_path = env_db && *env_db ? env_db : "./kpi.db";
    c.command = NULL;
    const char *env_token = getenv("KPI_TOKEN");
    c.token = env_token && *env_token ? env_token : NULL;

    /* Global options before the command. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_overview(stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("kpi %s\n", KPI_VERSION);
            return EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            c.json = true;
        } else if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            c.db_path = argv[++i];
            c.db_given = true;
        } else if (strncmp(a, "--db=", 5) == 0) {
            c.db_path = a + 5;
            c.db_given = true;
        } else if (strcmp(a, "--server") == 0 && i + 1 < argc) {
            c.server = argv[++i];
            c.server_given = true;
        } else if (strncmp(a, "--server=", 9) == 0) {
            c.server = a + 9;
            c.server_given = true;
        } else if (strcmp(a, "--token") == 0 && i + 1 < argc) {
            c.token = argv[++i];
        } else if (strncmp(a, "--token=", 8) == 0) {
            c.token = a + 8;
        } else {
            fprintf(stderr, "kpi: unknown option '%s'\nRun 'kpi --help' for usage.\n", a);
            return EXIT_USAGE;
        }
    }
    if (i >= argc) {
        print_overview(stderr);
        return EXIT_USAGE;
    }
    const struct cli_command *cmd = cli_find_command(argv[i]);
    if (!cmd) {
        fprintf(stderr, "kpi: unknown command '%s'\nRun 'kpi --help' for the list of commands.\n", argv[i]);
        return EXIT_USAGE;
    }
    c.command = cmd->name;
    int cmd_argc = take_remote_options(&c, argc - i, argv + i);
    c.local_only = local_only(cmd_argc, argv + i);
    if (c.local_only && c.server_given) {
        fprintf(stderr,
                "kpi %s: '%s' works on a database file only and cannot run against a server: give --db FILE instead of "
                "--server\n",
                cmd->name, c.local_only);
        return EXIT_USAGE;
    }
    const char *env_server = getenv("KPI_SERVER");
    if (!c.server_given && !c.db_given && !c.local_only && env_server && *env_server)
        c.server = env_server;
    int rc = cmd->run(&c, cmd_argc, argv + i);
    cli_close(&c);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "kpi: cannot write output\n");
        rc = EXIT_RUNTIME;
    }
    return rc;
}
