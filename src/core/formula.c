/*
 * The formula language of derived KPIs (see kpi/formula.h): a lexer and a recursive-descent parser
 * that build a small tree in one node array, the canonical printer, the evaluator and the
 * dependency-cycle check. Pure computation: no I/O, no third-party code.
 *
 * Every resource a formula text controls is bounded while parsing, so later stages can trust the
 * tree: the text length, the nesting depth (the parser recurses through parse_unary once per level,
 * so the check there bounds the C stack), the node count, the length of the canonical text (so a
 * printed formula always parses again) and the work of one evaluation (nested windows multiply:
 * sum_last(sum_last(x, 1000), 1000) would read x a million times per period, so it is rejected).
 * The evaluator and the printer recurse over the tree, whose height is at most the node count.
 */
#include "kpi/formula.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "kpi/model.h"

enum node_kind { NODE_NUM, NODE_KEY, NODE_NEG, NODE_BIN, NODE_CALL };

enum op {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_POW,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_EQ,
    OP_NE,
};

enum func {
    FUNC_ABS,
    FUNC_MIN,
    FUNC_MAX,
    FUNC_ROUND,
    FUNC_IF,
    FUNC_COALESCE,
    FUNC_PREV,
    FUNC_LAG,
    FUNC_SUM_LAST,
    FUNC_AVG_LAST,
    FUNC_GROWTH,
};

/* Binding strength of a node as an operand, loosest first; the printer compares these with what
 * the grammar allows in each operand position to decide where parentheses are needed. */
enum prec { PREC_CMP = 1, PREC_SUM, PREC_PRODUCT, PREC_UNARY, PREC_POWER, PREC_PRIMARY };

struct func_spec {
    const char *name;
    int min_args;
    int max_args; /* -1: any number */
    /* Second argument is a constant count: its allowed range. */
    bool has_n;
    int n_min;
    int n_max;
};

static const struct func_spec funcs[] = {
    [FUNC_ABS] = {"abs", 1, 1, false, 0, 0},
    [FUNC_MIN] = {"min", 2, -1, false, 0, 0},
    [FUNC_MAX] = {"max", 2, -1, false, 0, 0},
    [FUNC_ROUND] = {"round", 2, 2, true, -10, 10},
    [FUNC_IF] = {"if", 3, 3, false, 0, 0},
    [FUNC_COALESCE] = {"coalesce", 2, -1, false, 0, 0},
    [FUNC_PREV] = {"prev", 1, 1, false, 0, 0},
    [FUNC_LAG] = {"lag", 2, 2, true, 1, KPI_FORMULA_SHIFT_MAX},
    [FUNC_SUM_LAST] = {"sum_last", 2, 2, true, 1, KPI_FORMULA_SHIFT_MAX},
    [FUNC_AVG_LAST] = {"avg_last", 2, 2, true, 1, KPI_FORMULA_SHIFT_MAX},
    [FUNC_GROWTH] = {"growth", 1, 1, false, 0, 0},
};

#define N_FUNCS (sizeof(funcs) / sizeof(funcs[0]))

/* One tree node. Children are node indices: a binary node has a (left) and b (right), a unary
 * minus a, a call its first argument in a with the rest chained through next. */
struct node {
    enum node_kind kind;
    int op; /* enum op for NODE_BIN, enum func for NODE_CALL */
    int column;
    int a, b, next;
    int nargs;
    int n;        /* NODE_CALL with has_n: the constant count */
    size_t key;   /* NODE_KEY: index into the formula's keys */
    double num;   /* NODE_NUM */
    double work;  /* node evaluations one evaluation of this node may cost (an upper bound) */
    size_t shift; /* periods before the current one this node may read */
};

struct kpi_formula {
    struct node *nodes;
    size_t n_nodes;
    size_t cap_nodes;
    int root;
    char **keys;
    int *columns;
    size_t n_keys;
    char *canonical; /* the printed form, computed once while parsing to enforce its length */
    size_t canonical_len;
};

/* ---------------------------------------------------------------- lexer */

enum tok {
    TOK_END,
    TOK_NUM,
    TOK_NAME,
    TOK_LPAREN,
    TOK_RPAREN,
    TOK_COMMA,
    TOK_PLUS,
    TOK_MINUS,
    TOK_STAR,
    TOK_SLASH,
    TOK_CARET,
    TOK_LT,
    TOK_LE,
    TOK_GT,
    TOK_GE,
    TOK_EQ,
    TOK_NE,
};

struct token {
    enum tok kind;
    size_t start;
    size_t len;
    double num;
};

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    struct token tok;
    struct kpi_formula *f;
    int depth;
    struct kpi_diag *diag;
};

static int column_of(size_t offset)
{
    return (int)offset + 1;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || is_digit(c);
}

/* Reads a number at p->pos: digits with an optional fraction and exponent. A number running into
 * letters, digits or another point ("2x", "1.2.3", "1e") is one bad token, not two good ones. */
static int lex_number(struct parser *p, size_t start)
{
    const char *s = p->text;
    size_t i = start;
    while (i < p->len && is_digit(s[i]))
        i++;
    if (i < p->len && s[i] == '.') {
        i++;
        while (i < p->len && is_digit(s[i]))
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < p->len && (s[j] == '+' || s[j] == '-'))
            j++;
        if (j < p->len && is_digit(s[j])) {
            while (j < p->len && is_digit(s[j]))
                j++;
            i = j;
        }
    }
    size_t end = i;
    while (end < p->len && (is_name_char(s[end]) || s[end] == '.'))
        end++;
    int len = (int)(end - start);
    if (end != i)
        return kpi_diag_set(p->diag, -EINVAL, "column %d: bad number '%.*s'", column_of(start), len > 64 ? 64 : len, s + start);
    double v;
    int r = kpi_parse_double(s + start, end - start, &v);
    if (r == -ERANGE)
        return kpi_diag_set(p->diag, -EINVAL, "column %d: number '%.*s' is too large", column_of(start), len > 64 ? 64 : len,
                            s + start);
    if (r < 0)
        return kpi_diag_set(p->diag, -EINVAL, "column %d: bad number '%.*s'", column_of(start), len > 64 ? 64 : len, s + start);
    p->tok = (struct token){TOK_NUM, start, end - start, v};
    p->pos = end;
    return 0;
}

/* Advances to the next token. */
static int lex(struct parser *p)
{
    const char *s = p->text;
    while (p->pos < p->len && is_blank(s[p->pos]))
        p->pos++;
    size_t start = p->pos;
    if (start >= p->len) {
        p->tok = (struct token){TOK_END, start, 0, 0};
        return 0;
    }
    char c = s[start];
    char c2 = start + 1 < p->len ? s[start + 1] : '\0';
    if (is_digit(c) || (c == '.' && is_digit(c2)))
        return lex_number(p, start);
    if (is_name_start(c)) {
        size_t end = start;
        while (end < p->len && is_name_char(s[end]))
            end++;
        p->tok = (struct token){TOK_NAME, start, end - start, 0};
        p->pos = end;
        return 0;
    }
    enum tok kind;
    size_t len = 1;
    switch (c) {
    case '(':
        kind = TOK_LPAREN;
        break;
    case ')':
        kind = TOK_RPAREN;
        break;
    case ',':
        kind = TOK_COMMA;
        break;
    case '+':
        kind = TOK_PLUS;
        break;
    case '-':
        kind = TOK_MINUS;
        break;
    case '*':
        kind = TOK_STAR;
        break;
    case '/':
        kind = TOK_SLASH;
        break;
    case '^':
        kind = TOK_CARET;
        break;
    case '<':
        kind = c2 == '=' ? TOK_LE : TOK_LT;
        len = c2 == '=' ? 2 : 1;
        break;
    case '>':
        kind = c2 == '=' ? TOK_GE : TOK_GT;
        len = c2 == '=' ? 2 : 1;
        break;
    case '=':
        if (c2 != '=')
            return kpi_diag_set(p->diag, -EINVAL, "column %d: unexpected '=' (write '==' to compare)", column_of(start));
        kind = TOK_EQ;
        len = 2;
        break;
    case '!':
        if (c2 != '=')
            return kpi_diag_set(p->diag, -EINVAL, "column %d: unexpected '!'", column_of(start));
        kind = TOK_NE;
        len = 2;
        break;
    default:
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
            return kpi_diag_set(p->diag, -EINVAL, "column %d: unexpected byte 0x%02x", column_of(start),
                                (unsigned)(unsigned char)c);
        return kpi_diag_set(p->diag, -EINVAL, "column %d: unexpected character '%c'", column_of(start), c);
    }
    p->tok = (struct token){kind, start, len, 0};
    p->pos = start + len;
    return 0;
}

/* The next character after blanks, without consuming anything: tells a function from a key. */
static char peek_char(const struct parser *p)
{
    size_t i = p->pos;
    while (i < p->len && is_blank(p->text[i]))
        i++;
    return i < p->len ? p->text[i] : '\0';
}

static int unexpected(struct parser *p)
{
    const struct token *t = &p->tok;
    if (t->kind == TOK_END)
        return kpi_diag_set(p->diag, -EINVAL, "column %d: unexpected end of formula", column_of(t->start));
    int len = (int)t->len;
    return kpi_diag_set(p->diag, -EINVAL, "column %d: unexpected '%.*s'", column_of(t->start), len > 64 ? 64 : len,
                        p->text + t->start);
}

/* ---------------------------------------------------------------- tree */

static int new_node(struct parser *p, enum node_kind kind, int column, int *ret_id)
{
    struct kpi_formula *f = p->f;
    if (f->n_nodes >= KPI_FORMULA_NODES_MAX)
        return kpi_diag_set(p->diag, -E2BIG, "column %d: more than %d operands and operators", column, KPI_FORMULA_NODES_MAX);
    if (f->n_nodes >= f->cap_nodes) {
        size_t cap = f->cap_nodes ? f->cap_nodes * 2 : 16;
        if (cap > KPI_FORMULA_NODES_MAX)
            cap = KPI_FORMULA_NODES_MAX;
        struct node *nodes = realloc(f->nodes, cap * sizeof(*nodes));
        if (!nodes)
            return kpi_diag_set(p->diag, -ENOMEM, "out of memory");
        f->nodes = nodes;
        f->cap_nodes = cap;
    }
    struct node *nd = &f->nodes[f->n_nodes];
    *nd = (struct node){.kind = kind, .column = column, .a = -1, .b = -1, .next = -1, .work = 1};
    *ret_id = (int)f->n_nodes++;
    return 0;
}

/* Checks the work bound after a node's work has been computed from its children's. */
static int check_work(struct parser *p, int id)
{
    const struct node *nd = &p->f->nodes[id];
    if (!(nd->work <= KPI_FORMULA_WORK_MAX))
        return kpi_diag_set(p->diag, -E2BIG,
                            "column %d: too much work: more than %d evaluations per period (nested windows multiply)", nd->column,
                            KPI_FORMULA_WORK_MAX);
    return 0;
}

static int add_key(struct parser *p, size_t start, size_t len, size_t *ret_index)
{
    struct kpi_formula *f = p->f;
    for (size_t i = 0; i < f->n_keys; i++)
        if (strlen(f->keys[i]) == len && memcmp(f->keys[i], p->text + start, len) == 0) {
            *ret_index = i;
            return 0;
        }
    /* A formula has at most as many distinct keys as nodes, so these arrays are sized once. */
    if (!f->keys) {
        f->keys = calloc(KPI_FORMULA_NODES_MAX, sizeof(*f->keys));
        f->columns = calloc(KPI_FORMULA_NODES_MAX, sizeof(*f->columns));
        if (!f->keys || !f->columns)
            return kpi_diag_set(p->diag, -ENOMEM, "out of memory");
    }
    char *key = malloc(len + 1);
    if (!key)
        return kpi_diag_set(p->diag, -ENOMEM, "out of memory");
    memcpy(key, p->text + start, len);
    key[len] = '\0';
    f->keys[f->n_keys] = key;
    f->columns[f->n_keys] = column_of(start);
    *ret_index = f->n_keys++;
    return 0;
}

/* ---------------------------------------------------------------- parser */

static int parse_expr(struct parser *p, int *ret_id);
static int parse_unary(struct parser *p, int *ret_id);

/* The constant of a count argument: a number, possibly negated. */
static bool constant_value(const struct kpi_formula *f, int id, double *ret_value)
{
    double sign = 1;
    while (f->nodes[id].kind == NODE_NEG) {
        sign = -sign;
        id = f->nodes[id].a;
    }
    if (f->nodes[id].kind != NODE_NUM)
        return false;
    *ret_value = sign * f->nodes[id].num;
    return true;
}

static int parse_call(struct parser *p, enum func fn, size_t name_start, int *ret_id)
{
    const struct func_spec *spec = &funcs[fn];
    int column = column_of(name_start);
    int first = -1, last = -1, nargs = 0, n_column = 0, r;
    r = lex(p); /* the '(' */
    if (r < 0)
        return r;
    if (p->tok.kind == TOK_RPAREN) {
        r = lex(p);
        if (r < 0)
            return r;
    } else {
        for (;;) {
            int arg_column = column_of(p->tok.start), arg = -1;
            r = parse_expr(p, &arg);
            if (r < 0)
                return r;
            if (first < 0)
                first = arg;
            else
                p->f->nodes[last].next = arg;
            last = arg;
            nargs++;
            if (nargs == 2)
                n_column = arg_column;
            if (p->tok.kind == TOK_RPAREN)
                break;
            if (p->tok.kind != TOK_COMMA) {
                if (p->tok.kind == TOK_END)
                    return kpi_diag_set(p->diag, -EINVAL, "column %d: expected ',' or ')' to close %s(", column_of(p->tok.start),
                                        spec->name);
                return kpi_diag_set(p->diag, -EINVAL, "column %d: expected ',' or ')'", column_of(p->tok.start));
            }
            r = lex(p);
            if (r < 0)
                return r;
        }
        r = lex(p); /* the ')' */
        if (r < 0)
            return r;
    }
    if (nargs < spec->min_args || (spec->max_args >= 0 && nargs > spec->max_args)) {
        if (spec->max_args < 0)
            return kpi_diag_set(p->diag, -EINVAL, "column %d: %s expects at least %d arguments", column, spec->name,
                                spec->min_args);
        return kpi_diag_set(p->diag, -EINVAL, "column %d: %s expects %d argument%s", column, spec->name, spec->min_args,
                            spec->min_args == 1 ? "" : "s");
    }
    int n = 0;
    if (spec->has_n) {
        int n_id = p->f->nodes[first].next;
        double v = 0;
        if (!constant_value(p->f, n_id, &v) || v != floor(v) || v < spec->n_min || v > spec->n_max)
            return kpi_diag_set(p->diag, -EINVAL, "column %d: %s: n must be a whole number from %d to %d", n_column, spec->name,
                                spec->n_min, spec->n_max);
        n = (int)v;
    }
    int id = 0;
    r = new_node(p, NODE_CALL, column, &id);
    if (r < 0)
        return r;
    struct kpi_formula *f = p->f;
    struct node *nd = &f->nodes[id];
    nd->op = (int)fn;
    nd->a = first;
    nd->nargs = nargs;
    nd->n = n;
    /* Work and shift: one evaluation of the call, plus its arguments; the shifting functions
     * evaluate their first argument once per period of their window. Work is a double so that it
     * saturates instead of wrapping before the limit check. */
    double work = 1, arg_work_max = 0;
    size_t shift = 0;
    for (int c = first; c >= 0; c = f->nodes[c].next) {
        work += f->nodes[c].work;
        if (f->nodes[c].work > arg_work_max && c != first)
            arg_work_max = f->nodes[c].work;
        if (f->nodes[c].shift > shift)
            shift = f->nodes[c].shift;
    }
    const struct node *x = &f->nodes[first];
    switch (fn) {
    case FUNC_IF:
        /* Lazy: the condition and one branch. */
        work = 1 + x->work + arg_work_max;
        break;
    case FUNC_PREV:
        shift = x->shift + 1;
        break;
    case FUNC_LAG:
        shift = x->shift + (size_t)n;
        break;
    case FUNC_SUM_LAST:
    case FUNC_AVG_LAST:
        work = 2 + (double)n * x->work;
        shift = x->shift + (size_t)n - 1;
        break;
    case FUNC_GROWTH:
        work = 1 + 2 * x->work;
        shift = x->shift + 1;
        break;
    default:
        break;
    }
    nd->work = work;
    nd->shift = shift;
    r = check_work(p, id);
    if (r < 0)
        return r;
    *ret_id = id;
    return 0;
}

static int parse_primary(struct parser *p, int *ret_id)
{
    const struct token t = p->tok;
    int r, id = -1;
    switch (t.kind) {
    case TOK_NUM:
        r = new_node(p, NODE_NUM, column_of(t.start), &id);
        if (r < 0)
            return r;
        p->f->nodes[id].num = t.num;
        *ret_id = id;
        return lex(p);
    case TOK_NAME: {
        int len = (int)t.len;
        const char *name = p->text + t.start;
        if (peek_char(p) == '(') {
            for (size_t fn = 0; fn < N_FUNCS; fn++)
                if (strlen(funcs[fn].name) == t.len && memcmp(funcs[fn].name, name, t.len) == 0) {
                    r = lex(p); /* the name; parse_call reads the '(' */
                    if (r < 0)
                        return r;
                    return parse_call(p, (enum func)fn, t.start, ret_id);
                }
            return kpi_diag_set(p->diag, -EINVAL, "column %d: unknown function '%.*s'", column_of(t.start), len > 64 ? 64 : len,
                                name);
        }
        char key[KPI_KEY_MAX + 1];
        bool valid = t.len <= KPI_KEY_MAX;
        if (valid) {
            memcpy(key, name, t.len);
            key[t.len] = '\0';
            valid = kpi_key_valid(key);
        }
        if (!valid)
            return kpi_diag_set(p->diag, -EINVAL,
                                "column %d: '%.*s' is not a valid KPI key (a lower-case letter, then up to %d lower-case "
                                "letters, digits or '_')",
                                column_of(t.start), len > 64 ? 64 : len, name, KPI_KEY_MAX - 1);
        r = new_node(p, NODE_KEY, column_of(t.start), &id);
        if (r < 0)
            return r;
        size_t index = 0;
        r = add_key(p, t.start, t.len, &index);
        if (r < 0)
            return r;
        p->f->nodes[id].key = index;
        *ret_id = id;
        return lex(p);
    }
    case TOK_LPAREN:
        r = lex(p);
        if (r < 0)
            return r;
        r = parse_expr(p, &id);
        if (r < 0)
            return r;
        if (p->tok.kind != TOK_RPAREN) {
            if (p->tok.kind == TOK_END)
                return kpi_diag_set(p->diag, -EINVAL, "column %d: expected ')' to close the '(' at column %d",
                                    column_of(p->tok.start), column_of(t.start));
            return kpi_diag_set(p->diag, -EINVAL, "column %d: expected ')'", column_of(p->tok.start));
        }
        *ret_id = id;
        return lex(p);
    default:
        return kpi_diag_set(p->diag, -EINVAL, "column %d: expected an operand", column_of(t.start));
    }
}

static int make_binary(struct parser *p, enum op op, int column, int a, int b, int *ret_id)
{
    int id = 0;
    int r = new_node(p, NODE_BIN, column, &id);
    if (r < 0)
        return r;
    struct node *nd = &p->f->nodes[id];
    const struct node *na = &p->f->nodes[a], *nb = &p->f->nodes[b];
    nd->op = (int)op;
    nd->a = a;
    nd->b = b;
    nd->work = 1 + na->work + nb->work;
    nd->shift = na->shift > nb->shift ? na->shift : nb->shift;
    r = check_work(p, id);
    if (r < 0)
        return r;
    *ret_id = id;
    return 0;
}

/* power := primary ("^" unary)? */
static int parse_power(struct parser *p, int *ret_id)
{
    int base = -1, exponent = -1;
    int r = parse_primary(p, &base);
    if (r < 0)
        return r;
    if (p->tok.kind != TOK_CARET) {
        *ret_id = base;
        return 0;
    }
    int column = column_of(p->tok.start);
    r = lex(p);
    if (r < 0)
        return r;
    r = parse_unary(p, &exponent);
    if (r < 0)
        return r;
    return make_binary(p, OP_POW, column, base, exponent, ret_id);
}

/* unary := "-" unary | power. Every recursion of the parser passes through here, so this is where
 * the nesting depth is counted and bounded. */
static int parse_unary(struct parser *p, int *ret_id)
{
    int r, id = -1;
    p->depth++;
    if (p->depth > KPI_FORMULA_DEPTH_MAX + 1)
        return kpi_diag_set(p->diag, -E2BIG, "column %d: nesting deeper than %d levels", column_of(p->tok.start),
                            KPI_FORMULA_DEPTH_MAX);
    if (p->tok.kind == TOK_MINUS) {
        int column = column_of(p->tok.start), operand = -1;
        r = lex(p);
        if (r < 0)
            return r;
        r = parse_unary(p, &operand);
        if (r < 0)
            return r;
        r = new_node(p, NODE_NEG, column, &id);
        if (r < 0)
            return r;
        struct node *nd = &p->f->nodes[id];
        nd->a = operand;
        nd->work = 1 + p->f->nodes[operand].work;
        nd->shift = p->f->nodes[operand].shift;
    } else {
        r = parse_power(p, &id);
        if (r < 0)
            return r;
    }
    p->depth--;
    *ret_id = id;
    return 0;
}

/* The two left-associative levels of the grammar, tightest last:
 *   sum     := product (("+" | "-") product)*
 *   product := unary (("*" | "/") unary)*
 * One loop serves both; a level's operands are the next level (or unary for the last). */
enum level { LEVEL_SUM, LEVEL_PRODUCT };

static int parse_level(struct parser *p, enum level level, int *ret_id)
{
    int left = -1, right = -1;
    int r = level == LEVEL_SUM ? parse_level(p, LEVEL_PRODUCT, &left) : parse_unary(p, &left);
    if (r < 0)
        return r;
    for (;;) {
        enum op op;
        if (level == LEVEL_SUM && (p->tok.kind == TOK_PLUS || p->tok.kind == TOK_MINUS))
            op = p->tok.kind == TOK_PLUS ? OP_ADD : OP_SUB;
        else if (level == LEVEL_PRODUCT && (p->tok.kind == TOK_STAR || p->tok.kind == TOK_SLASH))
            op = p->tok.kind == TOK_STAR ? OP_MUL : OP_DIV;
        else
            break;
        int column = column_of(p->tok.start);
        r = lex(p);
        if (r < 0)
            return r;
        r = level == LEVEL_SUM ? parse_level(p, LEVEL_PRODUCT, &right) : parse_unary(p, &right);
        if (r < 0)
            return r;
        r = make_binary(p, op, column, left, right, &left);
        if (r < 0)
            return r;
    }
    *ret_id = left;
    return 0;
}

static bool comparison_op(enum tok kind, enum op *ret_op)
{
    switch (kind) {
    case TOK_LT:
        *ret_op = OP_LT;
        return true;
    case TOK_LE:
        *ret_op = OP_LE;
        return true;
    case TOK_GT:
        *ret_op = OP_GT;
        return true;
    case TOK_GE:
        *ret_op = OP_GE;
        return true;
    case TOK_EQ:
        *ret_op = OP_EQ;
        return true;
    case TOK_NE:
        *ret_op = OP_NE;
        return true;
    default:
        return false;
    }
}

/* expr := sum (cmp sum)? -- a chain a < b < c reads ambiguously, so it is an error. */
static int parse_expr(struct parser *p, int *ret_id)
{
    int left = -1, right = -1;
    enum op op;
    int r = parse_level(p, LEVEL_SUM, &left);
    if (r < 0)
        return r;
    if (!comparison_op(p->tok.kind, &op)) {
        *ret_id = left;
        return 0;
    }
    int column = column_of(p->tok.start);
    r = lex(p);
    if (r < 0)
        return r;
    r = parse_level(p, LEVEL_SUM, &right);
    if (r < 0)
        return r;
    enum op chained;
    if (comparison_op(p->tok.kind, &chained))
        return kpi_diag_set(p->diag, -EINVAL, "column %d: comparisons do not chain: a < b < c needs parentheses",
                            column_of(p->tok.start));
    return make_binary(p, op, column, left, right, ret_id);
}

/* ---------------------------------------------------------------- printer */

static enum prec node_prec(const struct node *nd)
{
    switch (nd->kind) {
    case NODE_NEG:
        return PREC_UNARY;
    case NODE_BIN:
        switch ((enum op)nd->op) {
        case OP_ADD:
        case OP_SUB:
            return PREC_SUM;
        case OP_MUL:
        case OP_DIV:
            return PREC_PRODUCT;
        case OP_POW:
            return PREC_POWER;
        default:
            return PREC_CMP;
        }
    default:
        return PREC_PRIMARY;
    }
}

static const char *const op_text[] = {
    [OP_ADD] = " + ", [OP_SUB] = " - ", [OP_MUL] = " * ", [OP_DIV] = " / ", [OP_POW] = " ^ ", [OP_LT] = " < ",
    [OP_LE] = " <= ", [OP_GT] = " > ",  [OP_GE] = " >= ", [OP_EQ] = " == ", [OP_NE] = " != ",
};

static int print_node(const struct kpi_formula *f, int id, struct kpi_buf *out);

/* Prints a child in a position that admits operands binding at least as tightly as min. */
static int print_operand(const struct kpi_formula *f, int id, enum prec min, struct kpi_buf *out)
{
    if (node_prec(&f->nodes[id]) >= min)
        return print_node(f, id, out);
    int r = kpi_buf_addc(out, '(');
    if (r < 0)
        return r;
    r = print_node(f, id, out);
    if (r < 0)
        return r;
    return kpi_buf_addc(out, ')');
}

static int print_node(const struct kpi_formula *f, int id, struct kpi_buf *out)
{
    const struct node *nd = &f->nodes[id];
    int r;
    switch (nd->kind) {
    case NODE_NUM: {
        char text[32];
        kpi_format_double(nd->num, text, sizeof(text));
        return kpi_buf_adds(out, text);
    }
    case NODE_KEY:
        return kpi_buf_adds(out, f->keys[nd->key]);
    case NODE_NEG:
        r = kpi_buf_addc(out, '-');
        if (r < 0)
            return r;
        return print_operand(f, nd->a, PREC_UNARY, out);
    case NODE_BIN: {
        /* The grammar's operand positions: + - * / are left-associative (right operand one level
         * tighter), ^ takes a primary on the left and a unary on the right, comparisons do not
         * chain. */
        enum prec left_min, right_min;
        switch (node_prec(nd)) {
        case PREC_SUM:
            left_min = PREC_SUM;
            right_min = PREC_PRODUCT;
            break;
        case PREC_PRODUCT:
            left_min = PREC_PRODUCT;
            right_min = PREC_UNARY;
            break;
        case PREC_POWER:
            left_min = PREC_PRIMARY;
            right_min = PREC_UNARY;
            break;
        default:
            left_min = PREC_SUM;
            right_min = PREC_SUM;
            break;
        }
        r = print_operand(f, nd->a, left_min, out);
        if (r < 0)
            return r;
        r = kpi_buf_adds(out, op_text[nd->op]);
        if (r < 0)
            return r;
        return print_operand(f, nd->b, right_min, out);
    }
    case NODE_CALL:
        r = kpi_buf_adds(out, funcs[nd->op].name);
        if (r < 0)
            return r;
        r = kpi_buf_addc(out, '(');
        if (r < 0)
            return r;
        for (int c = nd->a; c >= 0; c = f->nodes[c].next) {
            if (c != nd->a) {
                r = kpi_buf_adds(out, ", ");
                if (r < 0)
                    return r;
            }
            r = print_node(f, c, out);
            if (r < 0)
                return r;
        }
        return kpi_buf_addc(out, ')');
    }
    return -EINVAL;
}

/* ---------------------------------------------------------------- public: parse, print, inspect */

struct kpi_formula *kpi_formula_free(struct kpi_formula *f)
{
    if (!f)
        return NULL;
    for (size_t i = 0; i < f->n_keys; i++)
        free(f->keys[i]);
    free(f->keys);
    free(f->columns);
    free(f->nodes);
    free(f->canonical);
    free(f);
    return NULL;
}

int kpi_formula_parse(const char *text, struct kpi_formula **ret_formula, struct kpi_diag *diag)
{
    if (!text || !ret_formula)
        return kpi_diag_set(diag, -EINVAL, "formula: no text");
    size_t len = strlen(text);
    if (len > KPI_FORMULA_TEXT_MAX)
        return kpi_diag_set(diag, -E2BIG, "formula is longer than %d bytes", KPI_FORMULA_TEXT_MAX);
    struct kpi_formula *f = calloc(1, sizeof(*f));
    if (!f)
        return kpi_diag_set(diag, -ENOMEM, "out of memory");
    struct parser p = {.text = text, .len = len, .f = f, .diag = diag};
    struct kpi_buf out;
    kpi_buf_init(&out, KPI_FORMULA_TEXT_MAX);
    int r = lex(&p);
    if (r < 0)
        goto fail;
    if (p.tok.kind == TOK_END) {
        r = kpi_diag_set(diag, -EINVAL, "column 1: empty formula");
        goto fail;
    }
    r = parse_expr(&p, &f->root);
    if (r < 0)
        goto fail;
    if (p.tok.kind != TOK_END) {
        r = unexpected(&p);
        goto fail;
    }
    /* The canonical text must itself be a valid formula, so it is held to the same length limit
     * (spaces around operators and expanded numbers can make it longer than the input). */
    r = print_node(f, f->root, &out);
    if (r == -E2BIG) {
        r = kpi_diag_set(diag, -E2BIG, "formula is longer than %d bytes in canonical form", KPI_FORMULA_TEXT_MAX);
        goto fail;
    }
    if (r < 0) {
        r = kpi_diag_set(diag, r, "out of memory");
        goto fail;
    }
    f->canonical_len = out.len;
    f->canonical = kpi_buf_take(&out);
    if (!f->canonical) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto fail;
    }
    *ret_formula = f;
    return 0;
fail:
    kpi_buf_free(&out);
    kpi_formula_free(f);
    return r;
}

int kpi_formula_print(const struct kpi_formula *f, struct kpi_buf *out)
{
    if (!f || !out)
        return -EINVAL;
    return kpi_buf_add(out, f->canonical, f->canonical_len);
}

size_t kpi_formula_inputs(const struct kpi_formula *f, const char *const **ret_keys, const int **ret_columns)
{
    if (!f)
        return 0;
    if (ret_keys)
        *ret_keys = (const char *const *)f->keys;
    if (ret_columns)
        *ret_columns = f->columns;
    return f->n_keys;
}

size_t kpi_formula_lookback(const struct kpi_formula *f)
{
    return f ? f->nodes[f->root].shift : 0;
}

/* ---------------------------------------------------------------- evaluator */

struct eval_ctx {
    const struct kpi_formula *f;
    const struct kpi_formula_input *const *inputs; /* by key index */
    const char *(*label)(void *ctx, size_t i);
    void *label_ctx;
    struct kpi_diag *why;
};

enum { VALUE = 0, NO_VALUE = 1 };

static int no_value_for(const struct eval_ctx *c, size_t key, int64_t at, const char *what)
{
    const char *k = c->f->keys[key];
    if (at < 0)
        return kpi_diag_set(c->why, NO_VALUE, "no value for '%s' before the first period", k);
    const char *label = c->label ? c->label(c->label_ctx, (size_t)at) : NULL;
    if (label)
        return kpi_diag_set(c->why, NO_VALUE, "%s'%s' in %s", what, k, label);
    return kpi_diag_set(c->why, NO_VALUE, "%s'%s' in period %lld", what, k, (long long)at);
}

static int finite_result(const struct eval_ctx *c, double v, double *ret_value)
{
    if (!isfinite(v))
        return kpi_diag_set(c->why, NO_VALUE, "result is not a finite number");
    *ret_value = v == 0 ? 0 : v; /* no -0 in results */
    return VALUE;
}

/* Rounds half away from zero at n decimals, on the decimal digits a person sees: the shortest
 * round-trip text of x, so round(2.675, 2) is 2.68 although the double 2.675 lies just below. */
static int round_decimal(double x, int n, double *ret_value)
{
    char text[32], digits[48];
    if (x == 0) {
        *ret_value = 0;
        return 0;
    }
    kpi_format_double(x, text, sizeof(text));
    const char *s = text;
    bool neg = *s == '-';
    if (neg)
        s++;
    int nd = 0, point = -1;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            point = nd;
            continue;
        }
        if (nd >= (int)sizeof(digits) - 2)
            return -ERANGE;
        digits[nd++] = *s;
    }
    if (point < 0)
        point = nd;
    if (*s == 'e' || *s == 'E') {
        int64_t e;
        int r = kpi_parse_int64(s + 1, strlen(s + 1), -1000, 1000, &e);
        if (r < 0)
            return r;
        point += (int)e;
    }
    /* Now x = 0.d0d1d2... * 10^point; drop leading zeros. */
    int lead = 0;
    while (lead < nd && digits[lead] == '0') {
        lead++;
        point--;
    }
    memmove(digits, digits + lead, (size_t)(nd - lead));
    nd -= lead;
    int keep = point + n;
    if (nd == 0 || keep < 0) {
        *ret_value = 0;
        return 0;
    }
    if (keep >= nd) {
        *ret_value = x;
        return 0;
    }
    bool up = digits[keep] >= '5';
    nd = keep;
    if (up) {
        int k = nd - 1;
        while (k >= 0 && digits[k] == '9') {
            digits[k] = '0';
            k--;
        }
        if (k >= 0) {
            digits[k]++;
        } else {
            memmove(digits + 1, digits, (size_t)nd);
            digits[0] = '1';
            nd++;
            point++;
        }
    }
    if (nd == 0) {
        *ret_value = 0;
        return 0;
    }
    char rounded[80];
    int len = snprintf(rounded, sizeof(rounded), "%s0.%.*se%d", neg ? "-" : "", nd, digits, point);
    if (len < 0 || (size_t)len >= sizeof(rounded))
        return -ERANGE;
    return kpi_parse_double(rounded, (size_t)len, ret_value);
}

static int eval_node(const struct eval_ctx *c, int id, int64_t at, double *ret_value);

static int eval_window_sum(const struct eval_ctx *c, int x, int n, int64_t at, double *ret_value)
{
    double sum = 0, v;
    for (int k = 0; k < n; k++) {
        int r = eval_node(c, x, at - k, &v);
        if (r != VALUE)
            return r;
        sum += v;
    }
    return finite_result(c, sum, ret_value);
}

static int eval_call(const struct eval_ctx *c, const struct node *nd, int64_t at, double *ret_value)
{
    const struct node *nodes = c->f->nodes;
    int x = nd->a, r;
    double a, b;
    switch ((enum func)nd->op) {
    case FUNC_ABS:
        r = eval_node(c, x, at, &a);
        if (r != VALUE)
            return r;
        return finite_result(c, fabs(a), ret_value);
    case FUNC_MIN:
    case FUNC_MAX: {
        double best = 0;
        for (int arg = x; arg >= 0; arg = nodes[arg].next) {
            r = eval_node(c, arg, at, &a);
            if (r != VALUE)
                return r;
            if (arg == x || (nd->op == FUNC_MIN ? a < best : a > best))
                best = a;
        }
        return finite_result(c, best, ret_value);
    }
    case FUNC_ROUND:
        r = eval_node(c, x, at, &a);
        if (r != VALUE)
            return r;
        if (round_decimal(a, nd->n, &b) < 0)
            return kpi_diag_set(c->why, NO_VALUE, "result is not a finite number");
        return finite_result(c, b, ret_value);
    case FUNC_IF: {
        r = eval_node(c, x, at, &a);
        if (r != VALUE)
            return r;
        int branch = nodes[x].next;
        if (a == 0)
            branch = nodes[branch].next;
        return eval_node(c, branch, at, ret_value);
    }
    case FUNC_COALESCE:
        r = NO_VALUE;
        for (int arg = x; arg >= 0; arg = nodes[arg].next) {
            r = eval_node(c, arg, at, ret_value);
            if (r != NO_VALUE)
                return r;
        }
        return r;
    case FUNC_PREV:
        return eval_node(c, x, at - 1, ret_value);
    case FUNC_LAG:
        return eval_node(c, x, at - nd->n, ret_value);
    case FUNC_SUM_LAST:
        return eval_window_sum(c, x, nd->n, at, ret_value);
    case FUNC_AVG_LAST:
        r = eval_window_sum(c, x, nd->n, at, &a);
        if (r != VALUE)
            return r;
        return finite_result(c, a / nd->n, ret_value);
    case FUNC_GROWTH:
        r = eval_node(c, x, at, &a);
        if (r != VALUE)
            return r;
        r = eval_node(c, x, at - 1, &b);
        if (r != VALUE)
            return r;
        if (b == 0)
            return kpi_diag_set(c->why, NO_VALUE, "division by zero (growth from 0)");
        return finite_result(c, (a - b) / fabs(b) * 100, ret_value);
    }
    return kpi_diag_set(c->why, NO_VALUE, "unknown function");
}

static int eval_binary(const struct eval_ctx *c, const struct node *nd, int64_t at, double *ret_value)
{
    double a, b;
    int r = eval_node(c, nd->a, at, &a);
    if (r != VALUE)
        return r;
    r = eval_node(c, nd->b, at, &b);
    if (r != VALUE)
        return r;
    switch ((enum op)nd->op) {
    case OP_ADD:
        return finite_result(c, a + b, ret_value);
    case OP_SUB:
        return finite_result(c, a - b, ret_value);
    case OP_MUL:
        return finite_result(c, a * b, ret_value);
    case OP_DIV:
        if (b == 0)
            return kpi_diag_set(c->why, NO_VALUE, "division by zero");
        return finite_result(c, a / b, ret_value);
    case OP_POW:
        return finite_result(c, pow(a, b), ret_value);
    case OP_LT:
        *ret_value = a < b;
        return VALUE;
    case OP_LE:
        *ret_value = a <= b;
        return VALUE;
    case OP_GT:
        *ret_value = a > b;
        return VALUE;
    case OP_GE:
        *ret_value = a >= b;
        return VALUE;
    case OP_EQ:
        *ret_value = a == b;
        return VALUE;
    case OP_NE:
        *ret_value = a != b;
        return VALUE;
    }
    return kpi_diag_set(c->why, NO_VALUE, "unknown operator");
}

/* Evaluates node id at period index at, which shifting functions may move before the first period
 * (negative). Returns VALUE or NO_VALUE (reason in c->why). Recursion follows the tree, whose
 * height the node limit bounds. */
static int eval_node(const struct eval_ctx *c, int id, int64_t at, double *ret_value)
{
    const struct node *nd = &c->f->nodes[id];
    switch (nd->kind) {
    case NODE_NUM:
        *ret_value = nd->num;
        return VALUE;
    case NODE_KEY: {
        const struct kpi_formula_input *in = c->inputs[nd->key];
        if (at < 0 || (in->has && !in->has[at]))
            return no_value_for(c, nd->key, at, "no value for ");
        if (!isfinite(in->values[at]))
            return no_value_for(c, nd->key, at, "not a finite number: ");
        *ret_value = in->values[at] == 0 ? 0 : in->values[at];
        return VALUE;
    }
    case NODE_NEG: {
        double v;
        int r = eval_node(c, nd->a, at, &v);
        if (r != VALUE)
            return r;
        return finite_result(c, -v, ret_value);
    }
    case NODE_BIN:
        return eval_binary(c, nd, at, ret_value);
    case NODE_CALL:
        return eval_call(c, nd, at, ret_value);
    }
    return kpi_diag_set(c->why, NO_VALUE, "unknown node");
}

int kpi_formula_eval(const struct kpi_formula *f, const struct kpi_formula_input *inputs, size_t n_inputs, size_t n_periods,
                     size_t i, const char *(*label)(void *ctx, size_t i), void *label_ctx, double *ret_value, struct kpi_diag *why)
{
    if (!f || !ret_value || i >= n_periods || (n_inputs > 0 && !inputs))
        return kpi_diag_set(why, -EINVAL, "formula: bad evaluation arguments");
    const struct kpi_formula_input **by_key = NULL;
    if (f->n_keys > 0) {
        by_key = calloc(f->n_keys, sizeof(*by_key));
        if (!by_key)
            return kpi_diag_set(why, -ENOMEM, "out of memory");
    }
    int r = 0;
    for (size_t k = 0; k < f->n_keys; k++) {
        for (size_t j = 0; j < n_inputs && !by_key[k]; j++)
            if (kpi_streq(inputs[j].key, f->keys[k]))
                by_key[k] = &inputs[j];
        if (!by_key[k]) {
            r = kpi_diag_set(why, -ENOENT, "formula: no input for '%s'", f->keys[k]);
            goto out;
        }
        if (!by_key[k]->values) {
            r = kpi_diag_set(why, -EINVAL, "formula: input '%s' has no values", f->keys[k]);
            goto out;
        }
    }
    struct eval_ctx c = {.f = f, .inputs = by_key, .label = label, .label_ctx = label_ctx, .why = why};
    double v;
    r = eval_node(&c, f->root, (int64_t)i, &v);
    if (r == VALUE)
        *ret_value = v;
out:
    free(by_key);
    return r;
}

/* ---------------------------------------------------------------- dependency cycles */

struct key_index {
    const char *key;
    size_t node;
};

static int key_index_cmp(const void *a, const void *b)
{
    const struct key_index *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->node < y->node ? -1 : x->node > y->node;
}

/* The node of key, or n when it is not a KPI (unknown keys are reported elsewhere). */
static size_t find_key(const struct key_index *index, size_t n_index, size_t n, const char *key)
{
    size_t lo = 0, hi = n_index;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(index[mid].key, key);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < n_index && strcmp(index[lo].key, key) == 0)
        return index[lo].node;
    return n;
}

/* Appends piece to text (size bytes) at *len; the callers below reserve the room. */
static void append(char *text, size_t size, size_t *len, const char *piece)
{
    size_t n = strlen(piece);
    if (*len + n >= size)
        n = size - 1 - *len;
    memcpy(text + *len, piece, n);
    *len += n;
    text[*len] = '\0';
}

/* Sets "formula: cycle: a -> b -> a" for the path on the DFS stack and back to its start, eliding
 * the rest of a path too long for one diagnostic. */
static int cycle_diag(struct kpi_diag *diag, const char *const *keys, const size_t *path, size_t n_path)
{
    char text[KPI_DIAG_MAX - 32];
    size_t len = 0;
    text[0] = '\0';
    for (size_t k = 0; k < n_path; k++) {
        const char *key = keys[path[k]];
        /* Room for this key, " -> ..." and the final " -> start". */
        if (len + 4 + strlen(key) + 7 + 4 + strlen(keys[path[0]]) >= sizeof(text)) {
            append(text, sizeof(text), &len, " -> ...");
            break;
        }
        if (k > 0)
            append(text, sizeof(text), &len, " -> ");
        append(text, sizeof(text), &len, key);
    }
    append(text, sizeof(text), &len, " -> ");
    append(text, sizeof(text), &len, keys[path[0]]);
    return kpi_diag_set(diag, -ELOOP, "formula: cycle: %s", text);
}

int kpi_formula_find_cycle(const char *const *keys, const char *const *const *deps, const size_t *n_deps, size_t n, size_t start,
                           struct kpi_diag *diag)
{
    if (!keys || !n_deps || start >= n)
        return kpi_diag_set(diag, -EINVAL, "formula: bad cycle check arguments");
    struct key_index *index = calloc(n, sizeof(*index));
    size_t *stack = calloc(n, sizeof(*stack));
    size_t *edge = calloc(n, sizeof(*edge));
    bool *seen = calloc(n, sizeof(*seen));
    int r = 0;
    if (!index || !stack || !edge || !seen) {
        r = kpi_diag_set(diag, -ENOMEM, "out of memory");
        goto out;
    }
    size_t n_index = 0;
    for (size_t k = 0; k < n; k++)
        if (keys[k])
            index[n_index++] = (struct key_index){keys[k], k};
    qsort(index, n_index, sizeof(*index), key_index_cmp);
    /* Iterative depth-first search from start; each KPI is entered once. A cycle through start
     * exists exactly when some KPI reachable from start reads start, and at that moment the stack
     * holds a path from start to it. */
    size_t depth = 0;
    stack[depth] = start;
    edge[depth] = 0;
    depth++;
    seen[start] = true;
    while (depth > 0) {
        size_t u = stack[depth - 1];
        if (!deps || !deps[u] || edge[depth - 1] >= n_deps[u]) {
            depth--;
            continue;
        }
        const char *dep = deps[u][edge[depth - 1]++];
        if (!dep)
            continue;
        size_t v = find_key(index, n_index, n, dep);
        if (v == start) {
            r = cycle_diag(diag, keys, stack, depth);
            goto out;
        }
        if (v < n && !seen[v]) {
            seen[v] = true;
            stack[depth] = v;
            edge[depth] = 0;
            depth++;
        }
    }
out:
    free(index);
    free(stack);
    free(edge);
    free(seen);
    return r;
}
