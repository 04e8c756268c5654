/*
 * Definitions as code: `kpi apply FILE` makes the database match the KPIs of a YAML file, and
 * `kpi dump` writes the KPIs in that same format (src/defs does the parsing, writing and planning).
 *
 * apply reads the whole file (at most 16 MiB), parses and validates all of it, plans the creates and
 * updates, and then performs them in ONE transaction: any failure rolls everything back. A dry
 * run performs the same writes and always rolls back, so it reports every error the store would
 * (a missing parent, a loop in the cascade) while leaving the database untouched.
 *
 * A KPI entry without `targets` keeps the stored targets (the plan copies them in); `targets: []`
 * removes them.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "cli/cli.h"
#include "defs/defs.h"
#include "json/json.h"

#define DIFF_VALUE_MAX 60 /* bytes of a text value shown in a diff line */

/* Output text with a sticky error: a failed append (out of memory) is remembered, and later
 * appends are skipped, so a half-built line is never printed. */
struct out {
    struct kpi_buf b;
    int err;
};

static void out_init(struct out *o, size_t max)
{
    kpi_buf_init(&o->b, max);
    o->err = 0;
}

static void out_add(struct out *o, const char *s, size_t n)
{
    if (o->err == 0)
        o->err = kpi_buf_add(&o->b, s, n);
}

static void out_adds(struct out *o, const char *s)
{
    out_add(o, s, strlen(s));
}

static void out_addc(struct out *o, char ch)
{
    out_add(o, &ch, 1);
}

/* Writes the text to stdout (with a newline when asked) and frees it. */
static int out_print(struct cli *c, struct out *o, bool newline)
{
    int r = o->err;
    if (r == 0) {
        fputs(kpi_buf_str(&o->b), stdout);
        if (newline)
            fputc('\n', stdout);
    }
    kpi_buf_free(&o->b);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot write the output: %s", kpi_strerror(r));
    return EXIT_OK;
}

/* Reads a whole file ("-" is standard input), refusing more than KPI_DEFS_MAX_BYTES. */
static int read_file(struct cli *c, const char *path, const char *shown, struct kpi_buf *out)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return cli_fail(c, EXIT_RUNTIME, "%s: cannot open: %s", shown, strerror(errno));
    kpi_buf_init(out, KPI_DEFS_MAX_BYTES);
    int rc = EXIT_OK;
    char chunk[65536];
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0) {
            int r = kpi_buf_add(out, chunk, n);
            if (r == -E2BIG) {
                rc = cli_fail(c, EXIT_RUNTIME, "%s: the file is larger than %zu MiB", shown, KPI_DEFS_MAX_BYTES >> 20);
                break;
            }
            if (r < 0) {
                rc = cli_fail(c, EXIT_RUNTIME, "%s: %s", shown, kpi_strerror(r));
                break;
            }
        }
        if (n < sizeof(chunk)) {
            if (ferror(f))
                rc = cli_fail(c, EXIT_RUNTIME, "%s: cannot read: %s", shown, strerror(errno));
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (rc != EXIT_OK)
        kpi_buf_free(out);
    return rc;
}

/* Appends a value for a diff line: text quoted, tags as [a, b], unset as (none); control
 * characters escaped and long text shortened (at a UTF-8 boundary). */
static void add_shown_value(struct out *o, const struct kpi_defs_field_change *fc, const char *text)
{
    if (strcmp(fc->field, "targets") == 0) {
        /* Already "[...]" of dates and numbers; shown whole so that every change is visible. */
        out_adds(o, text ? text : "[]");
        return;
    }
    if (!text) {
        out_adds(o, "(none)");
        return;
    }
    if (fc->kind == KPI_FIELD_LIST) {
        out_addc(o, '[');
        for (const char *p = text; *p; p++) {
            if (*p == ',')
                out_adds(o, ", ");
            else
                out_addc(o, *p);
        }
        out_addc(o, ']');
        return;
    }
    bool quoted = fc->kind == KPI_FIELD_TEXT;
    if (quoted)
        out_addc(o, '\'');
    size_t n = strlen(text), shown = n;
    if (n > DIFF_VALUE_MAX) {
        shown = DIFF_VALUE_MAX;
        while (shown > 0 && ((unsigned char)text[shown] & 0xC0) == 0x80)
            shown--;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '\n') {
            out_adds(o, "\\n");
        } else if (ch == '\t') {
            out_adds(o, "\\t");
        } else if (ch < 0x20 || ch == 0x7f) {
            char esc[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
            out_add(o, esc, sizeof(esc));
        } else {
            out_addc(o, (char)ch);
        }
    }
    if (shown < n)
        out_adds(o, "...");
    if (quoted)
        out_addc(o, '\'');
}

/* "~ churn_rate: unit '%' -> 'pct', tier operational -> strategic" */
static int print_update(struct cli *c, const struct kpi_defs_change *ch)
{
    struct kpi_defs_field_change *fields;
    size_t n;
    int r = kpi_defs_diff(ch->current, ch->desired, &fields, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s: %s", ch->desired->key, kpi_strerror(r));
    struct out o;
    out_init(&o, 1 << 20);
    out_adds(&o, "~ ");
    out_adds(&o, ch->desired->key);
    out_addc(&o, ':');
    for (size_t i = 0; i < n; i++) {
        out_adds(&o, i ? ", " : " ");
        out_adds(&o, fields[i].field);
        out_addc(&o, ' ');
        add_shown_value(&o, &fields[i], fields[i].old_text);
        out_adds(&o, " -> ");
        add_shown_value(&o, &fields[i], fields[i].new_text);
    }
    kpi_defs_diff_free(fields, n);
    return out_print(c, &o, true);
}

/* A JSON string literal (null for NULL); the text is UTF-8 from the file or the database. */
static void json_string(struct out *o, const char *s)
{
    if (!s) {
        out_adds(o, "null");
        return;
    }
    static const char hex[] = "0123456789abcdef";
    out_addc(o, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            out_add(o, esc, sizeof(esc));
        } else if (*p == '\n') {
            out_adds(o, "\\n");
        } else if (*p == '\t') {
            out_adds(o, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            out_add(o, esc, sizeof(esc));
        } else {
            out_addc(o, (char)*p);
        }
    }
    out_addc(o, '"');
}

/* The targets of d as a compact JSON array of {baseline, baseline_date, value | low, high, date,
 * at_risk_pct}. */
static void json_targets(struct out *o, const struct kpi_def *d)
{
    if (o->err == 0)
        o->err = kpi_json_targets(&o->b, d, KPI_JSON_COMPACT);
}

/* Prints {"dry_run", "created", "updated", "unchanged", "changes": [{"action": "create", "key"},
 * {"action": "update", "key", "fields": [{"field", "old", "new"}]}]}, one change per line so that
 * each line's buffer stays small. old and new are strings (null when unset), except for the field
 * "targets", where they are arrays of target objects. */
static int print_json(struct cli *c, const struct kpi_defs_change *changes, size_t n, size_t n_created, size_t n_unchanged,
                      bool dry_run)
{
    printf("{\n  \"dry_run\": %s,\n  \"created\": %zu,\n  \"updated\": %zu,\n  \"unchanged\": %zu,\n  \"changes\": [",
           dry_run ? "true" : "false", n_created, n - n_created, n_unchanged);
    for (size_t i = 0; i < n; i++) {
        const struct kpi_defs_change *ch = &changes[i];
        struct out o;
        out_init(&o, 16 << 20);
        out_adds(&o, i ? ",\n    {\"action\": " : "\n    {\"action\": ");
        out_adds(&o, ch->kind == KPI_CHANGE_CREATE ? "\"create\", \"key\": " : "\"update\", \"key\": ");
        json_string(&o, ch->desired->key);
        if (ch->kind == KPI_CHANGE_UPDATE) {
            struct kpi_defs_field_change *fields;
            size_t nf;
            int r = kpi_defs_diff(ch->current, ch->desired, &fields, &nf);
            if (r < 0) {
                kpi_buf_free(&o.b);
                return cli_fail(c, EXIT_RUNTIME, "%s: %s", ch->desired->key, kpi_strerror(r));
            }
            out_adds(&o, ", \"fields\": [");
            for (size_t f = 0; f < nf; f++) {
                out_adds(&o, f ? ", {\"field\": " : "{\"field\": ");
                json_string(&o, fields[f].field);
                if (strcmp(fields[f].field, "targets") == 0) {
                    /* Arrays of target objects, as in `kpi target list --json`. */
                    out_adds(&o, ", \"old\": ");
                    json_targets(&o, ch->current);
                    out_adds(&o, ", \"new\": ");
                    json_targets(&o, ch->desired);
                } else {
                    out_adds(&o, ", \"old\": ");
                    json_string(&o, fields[f].old_text);
                    out_adds(&o, ", \"new\": ");
                    json_string(&o, fields[f].new_text);
                }
                out_addc(&o, '}');
            }
            out_addc(&o, ']');
            kpi_defs_diff_free(fields, nf);
        }
        out_addc(&o, '}');
        int rc = out_print(c, &o, false);
        if (rc != EXIT_OK)
            return rc;
    }
    fputs(n ? "\n  ]\n}\n" : "]\n}\n", stdout);
    return EXIT_OK;
}

/* Performs every change inside the current transaction; stops at the first failure. */
static int write_changes(struct cli *c, const char *shown, const struct kpi_defs_change *changes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct kpi_defs_change *ch = &changes[i];
        struct kpi_def d;
        int r = kpi_def_copy(ch->desired, &d);
        if (r < 0)
            return cli_fail(c, EXIT_RUNTIME, "%s", kpi_strerror(r));
        struct kpi_diag diag = {""};
        if (ch->kind == KPI_CHANGE_CREATE) {
            r = kpi_store_kpi_insert(c->store, &d, &diag);
        } else {
            d.id = ch->current->id;
            d.created_ms = ch->current->created_ms;
            r = kpi_store_kpi_update(c->store, &d, &diag);
        }
        kpi_def_clear(&d);
        if (r < 0)
            return cli_fail(c, EXIT_RUNTIME, "%s: %s: %s (nothing was changed)", shown, ch->desired->key,
                            diag.msg[0] ? diag.msg : kpi_strerror(r));
    }
    return EXIT_OK;
}

int cmd_apply(struct cli *c, int argc, char **argv)
{
    enum { OPT_DRY_RUN = OPT_FIRST_COMMAND_OPTION };
    static const struct option opts[] = {{"dry-run", no_argument, NULL, OPT_DRY_RUN}, CLI_COMMON_OPTIONS, {0}};
    bool dry_run = false;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_DRY_RUN)
            dry_run = true;
        else
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind >= argc)
        return cli_usage(c, "missing FILE (a YAML file, or - for standard input)");
    if (optind + 1 < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind + 1]);
    const char *path = argv[optind];
    const char *shown = strcmp(path, "-") == 0 ? "<stdin>" : path;

    struct kpi_buf text;
    int rc = read_file(c, path, shown, &text);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def *desired = NULL;
    bool *has_targets = NULL;
    size_t n_desired = 0;
    struct kpi_diag diag = {""};
    int r = kpi_defs_parse_yaml(kpi_buf_str(&text), text.len, &desired, &has_targets, &n_desired, &diag);
    kpi_buf_free(&text);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "%s:%s", shown, diag.msg[0] ? diag.msg : kpi_strerror(r));

    struct kpi_def *current = NULL;
    size_t n_current = 0;
    struct kpi_defs_change *changes = NULL;
    size_t n_changes = 0;
    rc = cli_open(c);
    if (rc != EXIT_OK)
        goto out;
    /* Archived KPIs count too: naming one in the file updates it rather than re-creating it. */
    r = kpi_store_kpi_list(c->store, true, &current, &n_current);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
        goto out;
    }
    /* Entries without `targets` get the stored targets here, before anything is compared. */
    r = kpi_defs_plan(current, n_current, desired, has_targets, n_desired, &changes, &n_changes);
    if (r < 0) {
        rc = cli_fail(c, EXIT_RUNTIME, "%s: cannot plan the changes: %s", shown, kpi_strerror(r));
        goto out;
    }
    size_t n_created = 0;
    for (size_t i = 0; i < n_changes; i++)
        n_created += changes[i].kind == KPI_CHANGE_CREATE;
    size_t n_updated = n_changes - n_created, n_unchanged = n_desired - n_changes;

    if (n_changes > 0) {
        r = kpi_store_begin(c->store);
        if (r < 0) {
            rc = cli_fail(c, EXIT_RUNTIME, "cannot start a transaction: %s", kpi_strerror(r));
            goto out;
        }
        rc = write_changes(c, shown, changes, n_changes);
        if (rc != EXIT_OK || dry_run) {
            kpi_store_rollback(c->store);
        } else {
            r = kpi_store_commit(c->store);
            if (r < 0) {
                kpi_store_rollback(c->store);
                rc = cli_fail(c, EXIT_RUNTIME, "cannot commit the changes: %s (nothing was changed)", kpi_strerror(r));
            }
        }
        if (rc != EXIT_OK)
            goto out;
    }

    if (c->json) {
        rc = print_json(c, changes, n_changes, n_created, n_unchanged, dry_run);
        goto out;
    }
    for (size_t i = 0; i < n_changes && rc == EXIT_OK; i++) {
        if (changes[i].kind == KPI_CHANGE_CREATE)
            printf("+ %s (%s)\n", changes[i].desired->key, dry_run ? "to create" : "created");
        else
            rc = print_update(c, &changes[i]);
    }
    if (rc != EXIT_OK)
        goto out;
    if (n_changes == 0)
        printf("no changes (%zu unchanged)\n", n_unchanged);
    else if (dry_run)
        printf("dry run: %zu to create, %zu to update, %zu unchanged; nothing written\n", n_created, n_updated, n_unchanged);
    else
        printf("%zu created, %zu updated, %zu unchanged\n", n_created, n_updated, n_unchanged);
out:
    free(changes);
    kpi_store_kpi_list_free(current, n_current);
    kpi_defs_free(desired, n_desired);
    free(has_targets);
    return rc;
}

int cmd_dump(struct cli *c, int argc, char **argv)
{
    enum { OPT_OUTPUT = OPT_FIRST_COMMAND_OPTION, OPT_ALL };
    static const struct option opts[] = {
        {"output", required_argument, NULL, OPT_OUTPUT}, {"all", no_argument, NULL, OPT_ALL}, CLI_COMMON_OPTIONS, {0}};
    const char *output = NULL;
    bool all = false;
    for (;;) {
        int stop;
        int opt = cli_next_option(c, argc, argv, opts, &stop);
        if (opt == CLI_OPTS_DONE)
            break;
        if (opt == CLI_OPTS_EXIT)
            return stop;
        if (opt == OPT_OUTPUT)
            output = optarg;
        else if (opt == OPT_ALL)
            all = true;
        else
            return cli_usage(c, "unknown option or missing value '%s'", argv[optind - 1]);
    }
    if (optind < argc)
        return cli_usage(c, "unexpected argument '%s'", argv[optind]);
    int rc = cli_open(c);
    if (rc != EXIT_OK)
        return rc;
    struct kpi_def *defs;
    size_t n;
    int r = kpi_store_kpi_list(c->store, all, &defs, &n);
    if (r < 0)
        return cli_fail(c, EXIT_RUNTIME, "cannot list KPIs: %s", kpi_strerror(r));
    struct kpi_buf b;
    kpi_buf_init(&b, KPI_DEFS_MAX_BYTES);
    r = kpi_defs_emit_yaml(&b, defs, n);
    kpi_store_kpi_list_free(defs, n);
    if (r == -E2BIG)
        return cli_fail(c, EXIT_RUNTIME, "the definitions are larger than %zu MiB, the most 'kpi apply' reads",
                        KPI_DEFS_MAX_BYTES >> 20);
    if (r == -EILSEQ) {
        kpi_buf_free(&b);
        return cli_fail(c, EXIT_RUNTIME, "a KPI holds text that is not valid UTF-8");
    }
    if (r < 0) {
        kpi_buf_free(&b);
        return cli_fail(c, EXIT_RUNTIME, "cannot write YAML: %s", kpi_strerror(r));
    }
    if (!output || strcmp(output, "-") == 0) {
        fwrite(kpi_buf_str(&b), 1, b.len, stdout);
        kpi_buf_free(&b);
        return EXIT_OK;
    }
    FILE *f = fopen(output, "wb");
    if (!f) {
        kpi_buf_free(&b);
        return cli_fail(c, EXIT_RUNTIME, "%s: cannot open for writing: %s", output, strerror(errno));
    }
    size_t written = fwrite(kpi_buf_str(&b), 1, b.len, f);
    bool ok = written == b.len;
    ok = (fclose(f) == 0) && ok;
    kpi_buf_free(&b);
    if (!ok)
        return cli_fail(c, EXIT_RUNTIME, "%s: cannot write: %s", output, strerror(errno));
    return EXIT_OK;
}
