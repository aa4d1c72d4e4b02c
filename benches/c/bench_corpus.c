/*
 * The QPACK bench's plumbing: byte buffers, recordings, and reading the QIF corpus.
 */
#define _POSIX_C_SOURCE 200809L

#include "qpack_bench.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *bench_grow(void *items, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return items;
    size_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *grown = realloc(items, n * size);
    if (!grown) {
        fputs("qpack_vs_nghttp3: out of memory\n", stderr);
        exit(1);
    }
    *cap = n;
    return grown;
}

void bench_bytes_append(bench_bytes *b, const void *data, size_t len) {
    if (len == 0) return;
    b->data = bench_grow(b->data, &b->cap, b->len + len, 1);
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void bench_bytes_free(bench_bytes *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void recording_reset(recording *r) {
    r->es.len = r->sec.len = r->ds.len = 0;
    r->steps = 0;
}

void recording_end_step(recording *r) {
    if (r->steps == r->cap) {
        size_t cap = r->cap;
        r->es_end = bench_grow(r->es_end, &cap, r->steps + 1, sizeof *r->es_end);
        cap = r->cap;
        r->sec_end = bench_grow(r->sec_end, &cap, r->steps + 1, sizeof *r->sec_end);
        cap = r->cap;
        r->ds_end = bench_grow(r->ds_end, &cap, r->steps + 1, sizeof *r->ds_end);
        r->cap = cap;
    }
    r->es_end[r->steps] = r->es.len;
    r->sec_end[r->steps] = r->sec.len;
    r->ds_end[r->steps] = r->ds.len;
    r->steps++;
}

void recording_free(recording *r) {
    bench_bytes_free(&r->es);
    bench_bytes_free(&r->sec);
    bench_bytes_free(&r->ds);
    free(r->es_end);
    free(r->sec_end);
    free(r->ds_end);
    memset(r, 0, sizeof *r);
}

const uint8_t *recording_slice(const bench_bytes *b, const size_t *ends, size_t i, size_t *len) {
    size_t start = i ? ends[i - 1] : 0;
    *len = ends[i] - start;
    return b->data ? b->data + start : (const uint8_t *)"";
}

int recording_same_output(const recording *a, const recording *b) {
    if (a->steps != b->steps || a->es.len != b->es.len || a->sec.len != b->sec.len) return 0;
    if ((a->es.len && memcmp(a->es.data, b->es.data, a->es.len) != 0) ||
        (a->sec.len && memcmp(a->sec.data, b->sec.data, a->sec.len) != 0))
        return 0;
    for (size_t i = 0; i < a->steps; i++)
        if (a->es_end[i] != b->es_end[i] || a->sec_end[i] != b->sec_end[i]) return 0;
    return 1;
}

static int name_is(const h3q_header *f, const char *name) {
    size_t n = strlen(name);
    return f->name_len == n && memcmp(f->name, name, n) == 0;
}

int bench_is_sensitive(const h3q_header *f) {
    if (name_is(f, "authorization") || name_is(f, "proxy-authorization")) return 1;
    if (name_is(f, "cookie") || name_is(f, "set-cookie")) return f->value_len < 20;
    return 0;
}

int bench_field_equal(const h3q_header *e, const uint8_t *name, size_t name_len,
                      const uint8_t *value, size_t value_len) {
    return e->name_len == name_len && e->value_len == value_len &&
           (name_len == 0 || memcmp(e->name, name, name_len) == 0) &&
           (value_len == 0 || memcmp(e->value, value, value_len) == 0);
}

/* ---- QIF ------------------------------------------------------------------------------ */

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "qpack_vs_nghttp3: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    bench_bytes b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) bench_bytes_append(&b, chunk, n);
    int failed = ferror(f);
    fclose(f);
    bench_bytes_append(&b, "", 1);
    if (failed) {
        fprintf(stderr, "qpack_vs_nghttp3: %s: read error\n", path);
        free(b.data);
        return NULL;
    }
    return (char *)b.data;
}

/* Ends the open list, if it has fields. */
static void close_list(qif_file *q, size_t *list_cap, size_t *open_start, size_t *open_len) {
    if (*open_len) {
        size_t cap = *list_cap;
        q->list_start = bench_grow(q->list_start, &cap, q->list_count + 1, sizeof(size_t));
        cap = *list_cap;
        q->list_len = bench_grow(q->list_len, &cap, q->list_count + 1, sizeof(size_t));
        *list_cap = cap;
        q->list_start[q->list_count] = *open_start;
        q->list_len[q->list_count] = *open_len;
        q->list_count++;
    }
    *open_start = q->field_count;
    *open_len = 0;
}

/* Splits the text into lists; the fields point into the text, which is not modified. */
static void parse_qif(qif_file *q) {
    size_t field_cap = 0, list_cap = 0, open_start = 0, open_len = 0;
    char *line = q->text, *end = q->text + strlen(q->text);
    while (line < end) {
        char *newline = memchr(line, '\n', (size_t)(end - line));
        char *line_end = newline ? newline : end;
        if (line_end > line && line_end[-1] == '\r') line_end--;
        size_t line_len = (size_t)(line_end - line);
        if (line_len == 0) {
            close_list(q, &list_cap, &open_start, &open_len);
        } else if (line[0] != '#') {
            char *tab = memchr(line, '\t', line_len);
            h3q_header h;
            h.name = (const uint8_t *)line;
            h.name_len = tab ? (size_t)(tab - line) : line_len;
            h.value = tab ? (const uint8_t *)tab + 1 : (const uint8_t *)line_end;
            h.value_len = tab ? (size_t)(line_end - tab - 1) : 0;
            q->fields = bench_grow(q->fields, &field_cap, q->field_count + 1, sizeof *q->fields);
            q->fields[q->field_count++] = h;
            q->field_bytes += h.name_len + h.value_len;
            open_len++;
        }
        line = newline ? newline + 1 : end;
    }
    close_list(q, &list_cap, &open_start, &open_len);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const qif_file *)a)->name, ((const qif_file *)b)->name);
}

size_t qif_load_dir(const char *dir, qif_file **files_out) {
    *files_out = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "qpack_vs_nghttp3: %s: %s\n", dir, strerror(errno));
        return 0;
    }
    qif_file *files = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 5 || n >= sizeof files->name || strcmp(e->d_name + n - 4, ".qif") != 0)
            continue;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        char *text = read_text(path);
        if (!text) continue;
        files = bench_grow(files, &cap, count + 1, sizeof *files);
        qif_file *q = &files[count++];
        memset(q, 0, sizeof *q);
        memcpy(q->name, e->d_name, n - 4);
        q->name[n - 4] = '\0';
        q->text = text;
        parse_qif(q);
    }
    closedir(d);
    if (count == 0) fprintf(stderr, "qpack_vs_nghttp3: no .qif files in %s\n", dir);
    qsort(files, count, sizeof *files, by_name);
    *files_out = files;
    return count;
}

void qif_free(qif_file *files, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(files[i].text);
        free(files[i].fields);
        free(files[i].list_start);
        free(files[i].list_len);
    }
    free(files);
}
