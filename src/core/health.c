/*
 * Health roll-up over the KPI cascade (DESIGN.md section 3, "Targets and status"): a node's health
 * is the weighted mean of its own score (weight 1) and its children's health (their weights).
 *
 * The work is iterative and linear: parent links that point nowhere (out of range, to the node
 * itself) are treated as roots, cycles are cut defensively by dropping the link that closes them,
 * and the nodes are then folded leaves-first (Kahn's order), so the depth of the cascade never
 * costs stack. Pure computation; the only allocation is the scratch space of n nodes.
 */
#include "kpi/status.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

struct scratch {
    ptrdiff_t parent; /* cleaned parent, -1 for a root */
    size_t pending;   /* children not yet folded in */
    double sum, weight;
    unsigned char mark; /* cycle cutting: 0 unseen, 1 on the current walk, 2 done */
};

/* Follows parent links from every node; a walk that comes back onto itself has its last link cut. */
static void cut_cycles(struct scratch *s, size_t n)
{
    for (size_t start = 0; start < n; start++) {
        size_t i = start;
        while (s[i].mark == 0) {
            s[i].mark = 1;
            ptrdiff_t p = s[i].parent;
            if (p < 0)
                break;
            if (s[p].mark == 1) {
                s[i].parent = -1;
                break;
            }
            i = (size_t)p;
        }
        /* Everything on this walk is now acyclic above. */
        i = start;
        while (s[i].mark == 1) {
            s[i].mark = 2;
            if (s[i].parent < 0)
                break;
            i = (size_t)s[i].parent;
        }
    }
}

int kpi_health_rollup(struct kpi_health_node *nodes, size_t n)
{
    if (n == 0)
        return 0;
    if (!nodes || n > PTRDIFF_MAX)
        return -EINVAL;
    struct scratch *s = calloc(n, sizeof(*s));
    size_t *queue = calloc(n, sizeof(*queue));
    int r = -ENOMEM;
    if (!s || !queue)
        goto out;

    for (size_t i = 0; i < n; i++) {
        ptrdiff_t p = nodes[i].parent;
        s[i].parent = p >= 0 && (size_t)p < n && (size_t)p != i ? p : -1;
    }
    cut_cycles(s, n);
    for (size_t i = 0; i < n; i++) {
        if (s[i].parent >= 0)
            s[s[i].parent].pending++;
    }

    size_t head = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].pending == 0)
            queue[tail++] = i;
    }
    /* Each node enters the queue once, after all its children; the forest guarantees all do. */
    while (head < tail) {
        size_t i = queue[head++];
        if (nodes[i].score.has && isfinite(nodes[i].score.v)) {
            s[i].sum += nodes[i].score.v;
            s[i].weight += 1.0;
        }
        ptrdiff_t p = s[i].parent;
        if (p < 0)
            continue;
        double w = nodes[i].weight;
        if (s[i].weight > 0.0 && isfinite(w) && w > 0.0) {
            s[p].sum += w * (s[i].sum / s[i].weight);
            s[p].weight += w;
        }
        s[p].pending--;
        if (s[p].pending == 0)
            queue[tail++] = (size_t)p;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i].weight > 0.0)
            nodes[i].health = (struct kpi_opt){.has = true, .v = s[i].sum / s[i].weight};
        else
            nodes[i].health = (struct kpi_opt){0};
    }
    r = 0;
out:
    free(s);
    free(queue);
    return r;
}
