/* timers.c: a binary min-heap of deadlines, ordered by time (see load.h). */
#include "load.h"

#include "ex_log.h"

#include <stdlib.h>

static void swap(timer *a, timer *b) {
    timer t = *a;
    *a = *b;
    *b = t;
}

void heap_push(heap *h, timer t) {
    if (h->len == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        timer *items = realloc(h->items, cap * sizeof *items);
        if (!items) {
            ex_warn("out of memory");
            exit(1);
        }
        h->items = items;
        h->cap = cap;
    }
    size_t i = h->len++;
    h->items[i] = t;
    while (i > 0 && h->items[(i - 1) / 2].at > h->items[i].at) {
        swap(&h->items[(i - 1) / 2], &h->items[i]);
        i = (i - 1) / 2;
    }
}

const timer *heap_top(const heap *h) { return h->len ? &h->items[0] : NULL; }

bool heap_pop(heap *h, timer *out) {
    if (h->len == 0) return false;
    *out = h->items[0];
    h->items[0] = h->items[--h->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, least = i;
        if (l < h->len && h->items[l].at < h->items[least].at) least = l;
        if (r < h->len && h->items[r].at < h->items[least].at) least = r;
        if (least == i) break;
        swap(&h->items[i], &h->items[least]);
        i = least;
    }
    return true;
}

void heap_free(heap *h) {
    free(h->items);
    h->items = NULL;
    h->len = h->cap = 0;
}
