/*
 * Reviews, action items and annotations: `kpi review add|list`, `kpi actions`, `kpi action done|reopen`,
 * `kpi annotate` and `kpi annotations`. A review is a dated check-in on a KPI (or on a team's
 * scorecard with --team) with a note and any number of action items, each with an owner and a due
 * date; annotations mark context on the time line of one KPI or, without a key, of every KPI.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/str.h"
#include "cli/cli.h"
#include "json/json.h"
#include "kpi/time.h"

/* Copies a free-text argument after the checks every text field gets (length, UTF-8, no control
 * characters but newlines and tabs in notes). */
static int set_text(struct cli *c, char **field, const char *value, size_t max, const char *name)
{
    struct kpi_diag diag = {""};
    if (!value || !*value)
        return cli_usage(c, "%s: must not be empty", name);
    if (kpi_text_set(field, value, max, strcmp(name, "note") == 0, name, &diag) < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s", diag.msg);
    return EXIT_OK;
}

static void free_actions(struct kpi_action *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].text);
        free(a[i].owner);
    }
}

static int review_add(struct cli *c, int argc, char **argv)
{
    enum { OPT_NOTE = OPT_FIRST_COMMAND_OPTION, OPT_DATE, OPT_AUTHOR, OPT_TEAM, OPT_ACTION, OPT_OWNER, OPT_DUE };
    static const struct option opts[] = {{"note", required_argument, NULL, OPT_NOTE},
                                         {"date", required_argument, NULL, OPT_DATE},
                                         {"author", required_argument, NULL, OPT_AUTHOR},
                                         {"team", required_argument, NULL, OPT_TEAM},
                                         {"action", required_argument, NULL, OPT_ACTION},
                                         {"owner", required_argument, NULL, OPT_OWNER},
                                         {"due", required_argument, NULL, OPT_DUE},
                                         CLI_COMMON_OPTIONS,
                                         {0}};
    struct kpi_review rv = {0};
    struct kpi_action actions[KPI_ACTIONS_PER_REVIEW_MAX];
    size_t n = 0;
    const char *date = NULL;
    int rc = EXIT_OK;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT) {
            rc = stop;
            goto out;
        }
        switch (opt) {
        case OPT_NOTE:
            rc = set_text(c, &rv.note, optarg, KPI_NOTE_MAX, "note");
            break;
        case OPT_DATE:
            date = optarg;
            break;
        case OPT_AUTHOR:
            rc = set_text(c, &rv.author, optarg, KPI_OWNER_MAX, "author");
            break;
        case OPT_TEAM:
            rc = set_text(c, &rv.team, optarg, KPI_TEAM_MAX, "team");
            break;
        case OPT_ACTION:
            if (n >= KPI_ACTIONS_PER_REVIEW_MAX) {
                rc = cli_usage(c, "at most %d actions per review", KPI_ACTIONS_PER_REVIEW_MAX);
                break;
            }
            actions[n] = (struct kpi_action){.due_day = INT64_MIN};
            n++;
            rc = set_text(c, &actions[n - 1].text, optarg, KPI_ACTION_TEXT_MAX, "action");
            break;
        case OPT_OWNER:
        case OPT_DUE:
            if (n == 0) {
                rc = cli_usage(c, "%s belongs to an --action: give it after the action's text",
                               opt == OPT_OWNER ? "--owner" : "--due");
                break;
            }
            if (opt == OPT_OWNER) {
                rc = set_text(c, &actions[n - 1].owner, optarg, KPI_OWNER_MAX, "owner");
            } else {
                rc = cli_date_arg(c, "due", optarg, &actions[n - 1].due_day);
            }
            break;
        }
        if (rc != EXIT_OK)
            goto out;
    }
    if (optind < argc)
        kpi_strlcpy(rv.kpi, argv[optind], sizeof(rv.kpi));
    if (optind + 1 < argc) {
        rc = cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
        goto out;
    }
    if (!rv.kpi[0] && !rv.team) {
        rc = cli_usage(c, "give the KPI key to review (or --team T for a team review)");
        goto out;
    }
    if (!rv.note) {
        rc = cli_usage(c, "missing --note");
        goto out;
    }
    rc = cli_open(c);
    if (rc != EXIT_OK)
        goto out;
    rv.day = cli_today(c);
    if (date && cli_date_arg(c, "date", date, &rv.day) != EXIT_OK) {
        rc = EXIT_RUNTIME;
        goto out;
    }
    int r = kpi_store_review_add(c->store, &rv, actions, n);
    if (r == -ENOENT)
        rc = cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", rv.kpi);
    else if (r < 0)
        rc = cli_fail(c, EXIT_RUNTIME, "cannot save the review: %s", kpi_strerror(r));
    else if (c->json)
        printf("{\"review\": %lld, \"actions\": %zu}\n", (long long)rv.id, n);
    else
        printf("review %lld saved%s%s with %zu action%s\n", (long long)rv.id, rv.kpi[0] ? " for " : "", rv.kpi, n,
               n == 1 ? "" : "s");
out:
    free(rv.note);
    free(rv.author);
    free(rv.team);
    free_actions(actions, n);
    return rc;
}

static int review_list(struct cli *c, int argc, char **argv)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    int stop;
    if (cli_next_option(c, argc, argv, opts, &stop) == CLI_OPTS_EXIT)
        return stop;
    const char *kpi = optind < argc ? argv[optind] : NULL;
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_review *list;
    size_t n;
    int r = kpi_store_reviews_list(c->store, kpi, INT64_MAX, &list, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list reviews: %s", kpi_strerror(r));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 64 << 20);
        kpi_json_reviews(&b, list, n, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    } else if (n == 0) {
        printf("no reviews yet\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            char day[16];
            kpi_date_format(list[i].day, day, sizeof(day));
            printf("#%-5lld %s  %-24s %s%s%s\n    %s\n", (long long)list[i].id, day,
                   list[i].kpi[0] ? list[i].kpi : (list[i].team ? list[i].team : "-"), list[i].author ? "by " : "",
                   list[i].author ? list[i].author : "", list[i].kpi[0] ? "" : " (team review)", list[i].note);
        }
    }
    kpi_store_reviews_free(list, n);
    return EXIT_OK;
}

int cmd_review(struct cli *c, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "add") == 0)
        return review_add(c, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "list") == 0)
        return review_list(c, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "--help") == 0)
        return cli_common_option(c, OPT_HELP, NULL) < 0 ? EXIT_OK : EXIT_USAGE;
    return cli_usage(c, "expected 'review add' or 'review list'");
}

int cmd_actions(struct cli *c, int argc, char **argv)
{
    enum { OPT_OWNER = OPT_FIRST_COMMAND_OPTION, OPT_OPEN };
    static const struct option opts[] = {
        {"owner", required_argument, NULL, OPT_OWNER}, {"open", no_argument, NULL, OPT_OPEN}, CLI_COMMON_OPTIONS, {0}};
    struct kpi_action_query q = {NULL, false};
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_OWNER)
            q.owner = optarg;
        else
            q.open_only = true;
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_action *list;
    size_t n;
    int r = kpi_store_actions_list(c->store, &q, &list, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list actions: %s", kpi_strerror(r));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 64 << 20);
        kpi_json_actions(&b, list, n, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    } else if (n == 0) {
        printf("no actions\n");
    } else {
        int64_t now = cli_today(c);
        printf("%-6s %-5s %-10s %-24s %-24s %s\n", "ID", "DONE", "DUE", "KPI", "OWNER", "ACTION");
        for (size_t i = 0; i < n; i++) {
            char due[16] = "-";
            if (list[i].due_day != INT64_MIN)
                kpi_date_format(list[i].due_day, due, sizeof(due));
            bool overdue = !list[i].done_ms && list[i].due_day != INT64_MIN && list[i].due_day < now;
            printf("%-6lld %-5s %-10s %-24s %-24.24s %s%s\n", (long long)list[i].id, list[i].done_ms ? "yes" : "no", due,
                   list[i].kpi[0] ? list[i].kpi : "(team)", list[i].owner ? list[i].owner : "-", list[i].text,
                   overdue ? "  [overdue]" : "");
        }
    }
    kpi_store_actions_free(list, n);
    return EXIT_OK;
}

int cmd_action(struct cli *c, int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--help") == 0)
        return cli_common_option(c, OPT_HELP, NULL) < 0 ? EXIT_OK : EXIT_USAGE;
    bool reopen = argc >= 2 && strcmp(argv[1], "reopen") == 0;
    if (argc < 3 || (!reopen && strcmp(argv[1], "done") != 0))
        return cli_usage(c, "expected 'action done ID' or 'action reopen ID'");
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0}};
    int stop;
    if (cli_next_option(c, argc - 1, argv + 1, opts, &stop) == CLI_OPTS_EXIT)
        return stop;
    if (optind + 1 >= argc)
        return cli_usage(c, "missing action ID");
    const char *text = argv[optind + 1];
    int64_t id;
    if (kpi_parse_int64(text, strlen(text), 1, INT64_MAX, &id) < 0)
        return cli_usage(c, "'%s' is not an action ID (see 'kpi actions')", text);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int r = kpi_store_action_done(c->store, id, reopen ? 0 : kpi_clock_wall_ms());
    if (r == -ENOENT)
        return cli_fail(c, EXIT_RUNTIME, "no action with ID %lld", (long long)id);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot update the action: %s", kpi_strerror(r));
    printf("action %lld %s\n", (long long)id, reopen ? "reopened" : "done");
    return EXIT_OK;
}

int cmd_annotate(struct cli *c, int argc, char **argv)
{
    enum { OPT_AT = OPT_FIRST_COMMAND_OPTION };
    static const struct option opts[] = {{"at", required_argument, NULL, OPT_AT}, CLI_COMMON_OPTIONS, {0}};
    const char *at = NULL;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        at = optarg;
    }
    int rest = argc - optind;
    if (rest < 1 || rest > 2)
        return cli_usage(c, "expected [KEY] TEXT");
    struct kpi_annotation a = {0};
    if (rest == 2)
        kpi_strlcpy(a.kpi, argv[optind], sizeof(a.kpi));
    int rc = set_text(c, &a.text, argv[argc - 1], KPI_ANNOTATION_MAX, "text");
    if (rc == EXIT_OK)
        rc = cli_open(c);
    if (rc == EXIT_OK) {
        a.day = cli_today(c);
        if (at)
            rc = cli_date_arg(c, "at", at, &a.day);
    }
    if (rc == EXIT_OK) {
        int r = kpi_store_annotation_add(c->store, &a);
        if (r == -ENOENT)
            rc = cli_fail(c, EXIT_RUNTIME, "no KPI with key '%s'", a.kpi);
        else if (r < 0)
            rc = cli_fail(c, EXIT_RUNTIME, "cannot save the annotation: %s", kpi_strerror(r));
        else
            printf("annotation %lld added%s%s\n", (long long)a.id, a.kpi[0] ? " to " : " for every KPI", a.kpi);
    }
    free(a.text);
    return rc;
}

int cmd_annotations(struct cli *c, int argc, char **argv)
{
    enum { OPT_FROM = OPT_FIRST_COMMAND_OPTION, OPT_TO };
    static const struct option opts[] = {
        {"from", required_argument, NULL, OPT_FROM}, {"to", required_argument, NULL, OPT_TO}, CLI_COMMON_OPTIONS, {0}};
    const char *from = NULL, *to = NULL;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_FROM)
            from = optarg;
        else
            to = optarg;
    }
    const char *kpi = optind < argc ? argv[optind] : NULL;
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    int64_t from_day = KPI_DAY_MIN, to_day = KPI_DAY_MAX;
    if (from && cli_parse_day(c, from, false, &from_day) < 0)
        return cli_usage(c, "from: '%s' is not a date or a period", from);
    if (to && cli_parse_day(c, to, true, &to_day) < 0)
        return cli_usage(c, "to: '%s' is not a date or a period", to);
    struct kpi_annotation *list;
    size_t n;
    int r = kpi_store_annotations_list(c->store, kpi, from_day, to_day, &list, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list annotations: %s", kpi_strerror(r));
    if (c->json) {
        struct kpi_buf b;
        kpi_buf_init(&b, 64 << 20);
        kpi_json_annotations(&b, list, n, KPI_JSON_PRETTY);
        cli_print_buf(c, &b);
    } else {
        for (size_t i = 0; i < n; i++) {
            char day[16];
            kpi_date_format(list[i].day, day, sizeof(day));
            printf("%s  %-24s %s\n", day, list[i].kpi[0] ? list[i].kpi : "(all KPIs)", list[i].text);
        }
        if (n == 0)
            printf("no annotations\n");
    }
    kpi_store_annotations_free(list, n);
    return EXIT_OK;
}
