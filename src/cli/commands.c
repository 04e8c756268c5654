/*
 * The command table of `kpi`: name, handler, one-line summary and the full help text that
 * `kpi help COMMAND` and `kpi COMMAND --help` print. Every option a command accepts is documented
 * here; tests/integration/cli_help.sh checks that each command's help mentions each of its options.
 */
#include "cli/cli.h"

#define COMMON_HELP                                                                                                                \
    "  --db FILE            database file (default: $KPI_DB, else ./kpi.db)\n"                                                     \
    "  --server URL         work against a running 'kpi serve' instead (default: $KPI_SERVER unless\n"                             \
    "                       --db is given; see docs/cli.md, \"Remote mode\")\n"                                                    \
    "  --token TOKEN        API token for --server (default: $KPI_TOKEN)\n"                                                        \
    "  --help               show this help\n"

#define FIELD_HELP                                                                                                                 \
    "  --name TEXT          display name (required for add)\n"                                                                     \
    "  --description TEXT   what the KPI measures and why it matters\n"                                                            \
    "  --unit TEXT          unit shown with values: EUR, $, users, ms ...\n"                                                       \
    "  --format F           number | percent | currency | duration (default number)\n"                                             \
    "  --decimals N         decimals shown, 0-10 (default 0)\n"                                                                    \
    "  --direction D        up | down | range: which way is good (default up)\n"                                                   \
    "  --aggregation A      sum | avg | min | max | last | first | count (default sum)\n"                                          \
    "  --granularity G      day | week | month | quarter | year (default month)\n"                                                 \
    "  --formula EXPR       makes the KPI derived from other KPIs, e.g. 'ltv / cac'\n"                                             \
    "  --tier T             north_star | strategic | operational | diagnostic (default operational)\n"                             \
    "  --indicator I        leading | lagging (default lagging)\n"                                                                 \
    "  --owner NAME         person accountable (a name or e-mail)\n"                                                               \
    "  --team NAME          team the KPI belongs to\n"                                                                             \
    "  --parent KEY         parent KPI in the cascade\n"                                                                           \
    "  --weight W           weight in the parent's roll-up (default 1)\n"                                                          \
    "  --review-cadence C   weekly | monthly | quarterly (default monthly)\n"                                                      \
    "  --visibility V       org | team | private (default org)\n"                                                                  \
    "  --tags LIST          comma-separated tags\n"                                                                                \
    "  --json               print the KPI as JSON\n"

const struct cli_command cli_commands[] = {
    {"init", cmd_init, "create the database (or bring its schema up to date)",
     "usage: kpi init [--timezone ZONE] [--fiscal-year-start MONTH] [--name ORG]\n\n"
     "Creates the database file, or upgrades an existing one to this binary's schema. A database\n"
     "written by a newer kpi is refused. Running init again is harmless.\n\n"
     "Options:\n"
     "  --timezone ZONE      IANA time zone deciding which day an instant falls on (default UTC)\n"
     "  --fiscal-year-start MONTH  month 1-12 on which fiscal years and quarters start (default 1)\n"
     "  --name ORG           organisation name\n" COMMON_HELP},
    {"org", cmd_org, "show or change the organisation settings",
     "usage: kpi org [--timezone ZONE] [--fiscal-year-start MONTH] [--name ORG] [--json]\n\n"
     "Without options prints the settings; with options changes them.\n\n"
     "Options:\n"
     "  --timezone ZONE      IANA time zone, e.g. Europe/Paris\n"
     "  --fiscal-year-start MONTH  month 1-12 on which the fiscal year starts\n"
     "  --name ORG           organisation name\n"
     "  --json               print the settings as JSON\n" COMMON_HELP},
    {"add", cmd_add, "define a new KPI",
     "usage: kpi add KEY --name NAME [FIELD OPTIONS]\n\n"
     "Defines a KPI. KEY is a lower-case letter followed by up to 63 lower-case letters, digits or '_'\n"
     "(it is the name used in formulas).\n\n"
     "Options:\n" FIELD_HELP COMMON_HELP},
    {"edit", cmd_edit, "change fields of a KPI",
     "usage: kpi edit KEY [FIELD OPTIONS]\n\n"
     "Changes the given fields and leaves the others as they are. An empty value clears an optional\n"
     "field: --unit \"\".\n\n"
     "Options:\n" FIELD_HELP COMMON_HELP},
    {"show", cmd_show, "show one KPI",
     "usage: kpi show KEY [--json]\n\n"
     "Prints every field of the KPI and its number of points.\n\n"
     "Options:\n"
     "  --json               print as JSON\n" COMMON_HELP},
    {"list", cmd_list, "list KPIs",
     "usage: kpi list [--all] [--latest] [--team T] [--tier T] [--owner U] [--json]\n\n"
     "Lists KPIs by key. Archived KPIs are hidden unless --all is given.\n\n"
     "Options:\n"
     "  --all                include archived KPIs\n"
     "  --latest             show each KPI's latest period with data and its value\n"
     "  --team T             only KPIs of team T\n"
     "  --tier T             only KPIs of tier T (north_star, strategic, operational, diagnostic)\n"
     "  --owner U            only KPIs owned by U\n"
     "  --json               print as a JSON array\n" COMMON_HELP},
    {"archive", cmd_archive, "archive (or restore) KPIs",
     "usage: kpi archive KEY... [--restore]\n\n"
     "Archived KPIs keep their history but are hidden from lists and take no new points.\n\n"
     "Options:\n"
     "  --restore            bring archived KPIs back\n" COMMON_HELP},
    {"push", cmd_push, "record one value of a KPI",
     "usage: kpi push KEY VALUE [--at DATE|INSTANT] [--dim k=v]...\n\n"
     "Records one point. Writing the same (KPI, dims, at) again replaces the value, so pushes are\n"
     "idempotent. VALUE is a decimal number with '.' as the decimal point (negative values are fine).\n\n"
     "Options:\n"
     "  --at DATE|INSTANT    2026-11-23 (that day in the organisation's time zone) or an RFC 3339\n"
     "                       instant such as 2026-11-23T14:05:00Z (default: now)\n"
     "  --dim k=v            a dimension label; repeat for several (at most 16)\n"
     "  --json               print {\"written\": 1}\n" COMMON_HELP},
    {"import", cmd_import, "import points from a CSV or JSON file, all or nothing",
     "usage: kpi import FILE | -\n\n"
     "Imports points from CSV (RFC 4180) with the header kpi,at,value followed by optional dimension\n"
     "columns (an empty cell leaves that dimension unset), or from a JSON array of\n"
     "{\"kpi\", \"at\", \"value\", \"dims\"} objects as 'kpi export --format json' writes it (dims optional).\n"
     "Input whose first character (after whitespace) is '[' is read as JSON, anything else as CSV.\n"
     "The file is read once, streamed; all rows are validated and written in one transaction. If any\n"
     "row is bad, nothing is written and every bad row is listed (CSV: line, column, reason; JSON: item\n"
     "number, field, reason; the first 50, then a count). A progress bar is shown when standard error is\n"
     "a terminal. '-' reads standard input.\n\n"
     "Options:\n"
     "  --quiet              no progress bar and no summary line\n"
     "  --json               print {rows, written, seconds}\n" COMMON_HELP},
    {"export", cmd_export, "export points as CSV or JSON",
     "usage: kpi export [--kpi KEY] [--from DAY] [--to DAY] [--format csv|json] [--output FILE]\n\n"
     "Writes points in the format that 'kpi import' reads back (CSV), or as a JSON array of\n"
     "{kpi, at, value, dims}. Points given as dates are written as dates, instants in UTC.\n\n"
     "Options:\n"
     "  --kpi KEY            only this KPI (default: all)\n"
     "  --from DAY           first day included: YYYY-MM-DD or a period such as 2026-Q1\n"
     "  --to DAY             last day included: YYYY-MM-DD or a period such as 2026-11\n"
     "  --format F           csv (default) or json\n"
     "  --output FILE        write to FILE instead of standard output\n"
     "  --json               same as --format json\n" COMMON_HELP},
    {"series", cmd_series, "values of a KPI per period",
     "usage: kpi series KEY [--granularity G] [--from DAY] [--to DAY] [--dim k=v]... [--as-of DATE] [--json]\n\n"
     "Prints one row per period with the KPI's aggregation over the points in it, using the\n"
     "organisation calendar (time zone, ISO weeks, fiscal year); for a derived KPI, its formula\n"
     "evaluated per period, with the reason when a period has no value. Empty periods are listed\n"
     "with no value. Without --from/--to the range runs from the first to the last point.\n\n"
     "Options:\n"
     "  --granularity G      day | week | month | quarter | year (default: the KPI's)\n"
     "  --from DAY           YYYY-MM-DD or a period label (2026-W05, 2026-11, 2026-Q1, 2026)\n"
     "  --to DAY             YYYY-MM-DD or a period label\n"
     "  --dim k=v            only points with this dimension value; repeat to narrow further\n"
     "  --as-of DATE         ignore points after that day, as the system would have answered then\n"
     "  --json               print {kpi, granularity, rows: [{period, start, end, value, points}]}\n" COMMON_HELP},
    {"apply", cmd_apply, "create or update KPIs from a YAML file",
     "usage: kpi apply FILE.yaml [--dry-run]\n\n"
     "Definitions as code: makes the database match the KPIs of the file (- reads standard input;\n"
     "at most 16 MiB and 10,000 KPIs). KPIs in the file are created or updated; KPIs not in the\n"
     "file are left alone. Prints the changes (+ created, ~ updated with each field's old and new\n"
     "value). Applying the same file twice changes nothing. The whole file is validated first and\n"
     "all changes are made in one transaction: on any error nothing is changed, and the error\n"
     "gives FILE:LINE:COLUMN. The format is described in docs/definitions-as-code.md.\n\n"
     "Options:\n"
     "  --dry-run            show the changes without making them (they are checked, then\n"
     "                       rolled back)\n"
     "  --json               print the changes as JSON\n" COMMON_HELP},
    {"dump", cmd_dump, "write the KPI definitions as YAML",
     "usage: kpi dump [--output FILE] [--all]\n\n"
     "Writes every KPI definition in the YAML format that 'kpi apply' reads, with only the\n"
     "fields that differ from their defaults; applying the output changes nothing.\n\n"
     "Options:\n"
     "  --output FILE        write to FILE instead of standard output\n"
     "  --all                include archived KPIs\n" COMMON_HELP},
    {"demo", cmd_demo, "seed a demo organisation",
     "usage: kpi demo [--seed N] [--years N] [--today DATE] [--json]\n\n"
     "Fills the database (created if missing) with a realistic demo organisation, Acme Analytics\n"
     "(time zone Europe/Berlin, fiscal year from January): owners, about 40 KPIs across sales,\n"
     "marketing, finance, SaaS, customer success, HR and operations, and years of history with\n"
     "trend, weekly and annual seasonality, noise and a few incidents (a paid campaign, the loss of\n"
     "the biggest customer, an outage week). The history holds exactly 12 x N months, the last one\n"
     "ending on --today. The same seed and --today always give the same points.\n\n"
     "Refuses (exit 1) to run on a database that already has KPIs, so real data is never mixed\n"
     "with made-up data. Everything is written in one transaction.\n\n"
     "Options:\n"
     "  --seed N             random seed (default 42)\n"
     "  --years N            years of history, 1-10 (default 3)\n"
     "  --today DATE         last day of history, YYYY-MM-DD (default: today in Europe/Berlin)\n"
     "  --json               print the summary, incident dates and targets as JSON\n" COMMON_HELP},
    {"status", cmd_status, "the scorecard: status, trend and health of every KPI",
     "usage: kpi status [KEY...] [--team T] [--tier T] [--owner U] [--status S] [--as-of DATE] [--json]\n\n"
     "Judges every KPI (or the KEYs given) as of a day: the latest period with data against the\n"
     "target that applies, with pacing for the unfinished period of sum and count KPIs; progress;\n"
     "the change against the previous period and a year before; a sparkline of the last 12\n"
     "periods; stale data and reviews that are due. Rules: docs/semantics.md.\n\n"
     "Options:\n"
     "  --team T             only KPIs of team T\n"
     "  --tier T             only KPIs of tier T (north_star, strategic, operational, diagnostic)\n"
     "  --owner U            only KPIs owned by U\n"
     "  --status S           only KPIs whose status is S (on_track, at_risk, off_track, no_target, no_data)\n"
     "  --as-of DATE         answer as the system would have on that day (default: today)\n"
     "  --no-color           no colours even on a terminal (NO_COLOR is honoured too)\n"
     "  --json               one status object for a single KEY, else {as_of, kpis, teams}\n" COMMON_HELP},
    {"tree", cmd_tree, "the cascade of KPIs with their health",
     "usage: kpi tree [--team T] [--as-of DATE] [--no-color]\n\n"
     "Prints each KPI under its parent with its status and health: a parent's health is the weighted\n"
     "mean of its own score and its children's health (on track 100, at risk 50, off track 0).\n\n"
     "Options:\n"
     "  --team T             only trees whose root belongs to team T\n"
     "  --as-of DATE         as of that day (default: today)\n"
     "  --no-color           no colours\n" COMMON_HELP},
    {"target", cmd_target, "set, list or remove the targets of a KPI",
     "usage: kpi target set KEY --baseline B --baseline-date DATE --value T --date DATE [--at-risk-pct P]\n"
     "       kpi target set KEY --baseline B --baseline-date DATE --low L --high H --date DATE   (range KPIs)\n"
     "       kpi target list KEY [--json]\n"
     "       kpi target rm KEY --date DATE\n\n"
     "A target moves the KPI from baseline B on the baseline date to T on the target date; the status\n"
     "compares each period with the value expected on its last day (see docs/semantics.md). A KPI may\n"
     "have successive targets (one per year or quarter); a target is identified by its date, so\n"
     "setting one with the date of an existing target replaces it.\n\n"
     "Options:\n"
     "  --baseline B         value at the baseline date\n"
     "  --baseline-date DATE start of the target, YYYY-MM-DD\n"
     "  --value T            value to reach (up and down KPIs)\n"
     "  --low L, --high H    the band to stay in (range KPIs)\n"
     "  --date DATE          when the target is due, after the baseline date\n"
     "  --at-risk-pct P      tolerance before off track, in % of |T - B| (default 10)\n"
     "  --json               print the KPI (set) or its targets (list) as JSON\n" COMMON_HELP},
    {"review", cmd_review, "record a review of a KPI or a team, with action items",
     "usage: kpi review add KEY --note TEXT [--date DATE] [--author NAME]\n"
     "                      [--action TEXT [--owner NAME] [--due DATE]]...\n"
     "       kpi review add --team TEAM --note TEXT [...]\n"
     "       kpi review list [KEY] [--json]\n\n"
     "A review is a dated check-in on a KPI (or on a team's scorecard) with a note and action items.\n"
     "--owner and --due belong to the --action they follow. A KPI whose last review is older than its\n"
     "review_cadence is marked \"due for review\" on the scorecard.\n\n"
     "Options:\n"
     "  --note TEXT          what was discussed and decided (required)\n"
     "  --date DATE          day of the review, YYYY-MM-DD (default: today)\n"
     "  --author NAME        who held the review\n"
     "  --team TEAM          review a team's scorecard instead of one KPI\n"
     "  --action TEXT        an action item; repeat for several (at most 50)\n"
     "  --owner NAME         owner of the preceding action\n"
     "  --due DATE           due date of the preceding action\n"
     "  --json               machine-readable output\n" COMMON_HELP},
    {"actions", cmd_actions, "list action items from reviews",
     "usage: kpi actions [--owner NAME] [--open] [--json]\n\n"
     "Lists action items, open ones first by due date; overdue ones are marked.\n\n"
     "Options:\n"
     "  --owner NAME         only actions owned by NAME\n"
     "  --open               only actions not done yet\n"
     "  --json               print as a JSON array\n" COMMON_HELP},
    {"action", cmd_action, "mark an action item done, or reopen it",
     "usage: kpi action done ID\n"
     "       kpi action reopen ID\n\n"
     "Marks the action done (the ID is shown by 'kpi actions'); marking it again changes nothing, it\n"
     "keeps the first time. 'reopen' makes a done action open again.\n\n"
     "Options:\n" COMMON_HELP},
    {"annotate", cmd_annotate, "add context to the time line of a KPI or of all KPIs",
     "usage: kpi annotate [KEY] [--at DATE] TEXT\n\n"
     "Marks context such as a price change or a holiday on a day. Without KEY the annotation applies\n"
     "to every KPI.\n\n"
     "Options:\n"
     "  --at DATE            the day, YYYY-MM-DD (default: today)\n" COMMON_HELP},
    {"annotations", cmd_annotations, "list annotations",
     "usage: kpi annotations [KEY] [--from DAY] [--to DAY] [--json]\n\n"
     "Lists the annotations of KEY and the organisation-wide ones (all annotations without KEY).\n\n"
     "Options:\n"
     "  --from DAY           first day: YYYY-MM-DD or a period label\n"
     "  --to DAY             last day: YYYY-MM-DD or a period label\n"
     "  --json               print as a JSON array\n" COMMON_HELP},
    {"forecast", cmd_forecast, "forecast a KPI with prediction intervals",
     "usage: kpi forecast KEY [--horizon N] [--as-of DATE] [--json]\n\n"
     "Fits exponential-smoothing (ETS) models to the KPI's history at its granularity (season 7 for\n"
     "days, 52 for weeks, 12 for months, 4 for quarters, when there are two full seasons), keeps the\n"
     "one with the lowest AICc and says why; short or constant series fall back to naive or mean.\n"
     "Prints a terminal chart of the history, the forecast and its 80%/95% band, a table of the next\n"
     "periods and, when a target falls due within the horizon, p_target: the probability of meeting\n"
     "it on its date. Empty periods inside the history are interpolated; an unfinished last period\n"
     "of a sum or count KPI is left out.\n\n"
     "Options:\n"
     "  --horizon N          periods to forecast, 1-1000 (default 12)\n"
     "  --as-of DATE         ignore points after that day (default: today)\n"
     "  --json               print {kpi, model, method, note, alpha, beta, gamma, phi, aicc, sigma2,\n"
     "                       rows: [{period, start, end, mean, lo80, hi80, lo95, hi95}], p_target}\n" COMMON_HELP},
    {"anomalies", cmd_anomalies, "periods that lie far from what the model expected",
     "usage: kpi anomalies KEY [--sensitivity K] [--as-of DATE] [--json]\n\n"
     "Fits the forecast model to the KPI's history and flags the periods whose residual (value minus\n"
     "the one-step fitted value) lies more than K robust standard deviations (1.4826 * MAD) from the\n"
     "median residual: a spike above, a dip below. Lists period, value, expected value and robust z.\n\n"
     "Options:\n"
     "  --sensitivity K      the bound in robust standard deviations (default 3.5; larger flags fewer)\n"
     "  --as-of DATE         ignore points after that day (default: today)\n"
     "  --json               print {kpi, model, sensitivity, centre, scale, anomalies: [...]}\n" COMMON_HELP},
    {"drivers", cmd_drivers, "which dim values explain a KPI's change between two periods",
     "usage: kpi drivers KEY --from P1 --to P2 [--dim NAME] [--json]\n\n"
     "Splits the change of a measured KPI from period P1 to period P2 into the contribution of each\n"
     "value of one dimension, largest first, with its share of the change; the contributions sum to\n"
     "the total change. Sum and count KPIs split by segment deltas, avg KPIs into each segment's own\n"
     "change plus its change of share (mix); min, max, first and last do not split.\n\n"
     "Options:\n"
     "  --from P1            period label (2026-03, 2026-Q1, 2026-W05) or a date in the period\n"
     "  --to P2              period label or a date, not before P1\n"
     "  --dim NAME           the dimension to split by (default: the first the points carry)\n"
     "  --json               print {kpi, dim, from, to, total_before, total_after, total_change,\n"
     "                       segments: [{segment, before, after, contribution, share_pct}]}\n" COMMON_HELP},
    {"correlate", cmd_correlate, "KPIs whose changes move with a KPI's, at a lag",
     "usage: kpi correlate KEY [--with OTHER] [--max-lag L] [--json]\n\n"
     "Correlates the period-to-period changes of KEY with those of every other non-archived KPI of\n"
     "the same granularity (or just OTHER) at lags -L..+L, and lists the significant pairs (at least\n"
     "8 overlapping periods and |r| > 2 / sqrt(pairs)) by strength, with the best lag and which KPI\n"
     "moves first. With many KPIs and lags a few pairs are significant by chance; correlation is not\n"
     "causation.\n\n"
     "Options:\n"
     "  --with OTHER         only this KPI\n"
     "  --max-lag L          largest lag in periods, 0-24 (default 12)\n"
     "  --json               print {kpi, granularity, max_lag, compared, pairs: [{kpi, lag, r, n_pairs,\n"
     "                       leader}], note}\n" COMMON_HELP},
    {"insights", cmd_insights, "the scorecard in sentences, with forecasts of the next targets",
     "usage: kpi insights [--team T] [--as-of DATE] [--json]\n\n"
     "One summary line, then one sentence per KPI, most urgent first: its status against the\n"
     "expected value, a streak of periods moving the wrong way, and, when a target is due later,\n"
     "the probability of meeting it from the KPI's forecast (see 'kpi forecast'). The words are\n"
     "deterministic: the same data always gives the same sentences.\n\n"
     "Options:\n"
     "  --team T             only KPIs of team T\n"
     "  --as-of DATE         as of that day (default: today)\n"
     "  --json               {as_of, summary, kpis: [{kpi, status, text, p_target}]}\n" COMMON_HELP},
    {"serve", cmd_serve, "serve the REST API over HTTP",
     "usage: kpi serve [--listen HOST:PORT] [--threads N] [--access-log FILE|-|off] [--max-body BYTES]\n"
     "                 [--max-batch N] [--print-routes]\n\n"
     "Serves the REST API under /api/v1 (see docs/api.md and /api/v1/openapi.json), /healthz,\n"
     "/readyz and /metrics on the database. Every /api/v1 route needs 'Authorization: Bearer TOKEN'\n"
     "(see 'kpi token'). Stops gracefully on SIGTERM or SIGINT: requests in flight finish first.\n\n"
     "Options:\n"
     "  --listen HOST:PORT   address to listen on (default: $KPI_LISTEN, else 127.0.0.1:8080;\n"
     "                       port 0 picks a free port, printed on stderr)\n"
     "  --threads N          request threads (default: one per core)\n"
     "  --access-log FILE    one JSON line per request: to FILE, '-' for stderr (default), or off\n"
     "  --max-body BYTES     largest request body (default 33554432); larger ones get 413\n"
     "  --max-batch N        most points in one batch (default 100000); more get 413\n"
     "  --print-routes       print every route (METHOD PATTERN) and exit\n" COMMON_HELP},
    {"token", cmd_token, "create, list or revoke API tokens",
     "usage: kpi token create NAME [--json]\n"
     "       kpi token list [--json]\n"
     "       kpi token revoke NAME\n\n"
     "API tokens let machines call the REST API: send 'Authorization: Bearer TOKEN'. 'create' prints\n"
     "the new token once; only its hash is stored, so a lost token cannot be shown again (revoke it\n"
     "and create another). 'revoke' takes effect at the next request.\n\n"
     "Options:\n"
     "  --json               print {name, token} (create) or [{name, created}] (list)\n" COMMON_HELP},
    {"help", cmd_help, "show help for a command", "usage: kpi help [COMMAND]\n"},
    {0},
};
