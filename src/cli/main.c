/*
 * Entry point of the `kpi` tool: global options, then dispatch to a command of cli_commands
 * (commands.c). `kpi --help` lists the commands, `kpi help COMMAND` prints one command's help.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void print_overview(FILE *f)
{
    fprintf(f, "usage: kpi [--db FILE] COMMAND [OPTIONS] [ARGS]\n\n"
               "kpi tracks the few numbers that matter: KPIs with an owner, a target and a deadline.\n\n"
               "Commands:\n");
    for (const struct cli_command *cmd = cli_commands; cmd->name; cmd++)
        fprintf(f, "  %-10s %s\n", cmd->name, cmd->summary);
    fprintf(f, "\nGlobal options (accepted before or after the command):\n"
               "  --db FILE   database file (default: $KPI_DB, else ./kpi.db)\n"
               "  --json      machine-readable output for read commands\n"
               "  --help      help for kpi or for the command\n"
               "  --version   print the version\n\n"
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

int main(int argc, char **argv)
{
    struct cli c = {0};
    const char *env_db = getenv("KPI_DB");
    c.db_path = env_db && *env_db ? env_db : "./kpi.db";
    c.command = NULL;

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
        } else if (strncmp(a, "--db=", 5) == 0) {
            c.db_path = a + 5;
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
    int rc = cmd->run(&c, argc - i, argv + i);
    cli_close(&c);
    if (fflush(stdout) != 0 && rc == EXIT_OK) {
        fprintf(stderr, "kpi: cannot write output\n");
        rc = EXIT_RUNTIME;
    }
    return rc;
}
