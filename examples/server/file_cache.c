/* file_cache: see file_cache.h. */
#define _GNU_SOURCE
#include "file_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUCKETS 1024 /* a power of two */

struct cached_file {
    struct cached_file *next_in_bucket;
    struct cached_file *newer, *older; /* the cache's use order, while cached */
    unsigned refs;                     /* the cache's own while cached, and the lenders' */
    bool cached;
    uint64_t hash;
    char *path;
    uint8_t *data;
    uint64_t size;
    dev_t dev;
    ino_t ino;
    struct timespec mtime;
    uint64_t checked_ns; /* when the file was last read or found unchanged */
};

struct file_cache {
    cached_file *buckets[BUCKETS];
    cached_file *newest, *oldest;
    size_t bytes, count;
};

/* FNV-1a over the path. */
static uint64_t path_hash(const char *path) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h;
}

file_cache *file_cache_new(void) { return calloc(1, sizeof(file_cache)); }

const uint8_t *cached_file_data(const cached_file *file) { return file->data; }

uint64_t cached_file_size(const cached_file *file) { return file->size; }

void cached_file_hold(cached_file *file) { file->refs++; }

void cached_file_put(cached_file *file) {
    if (--file->refs > 0) return;
    free(file->data);
    free(file->path);
    free(file);
}

void cached_file_release(void *ctx) { cached_file_put(ctx); }

/* ---- the use order ------------------------------------------------------------------ */

static void unlink_order(file_cache *cache, cached_file *f) {
    if (f->newer) f->newer->older = f->older;
    else cache->newest = f->older;
    if (f->older) f->older->newer = f->newer;
    else cache->oldest = f->newer;
    f->newer = f->older = NULL;
}

static void link_newest(file_cache *cache, cached_file *f) {
    f->older = cache->newest;
    f->newer = NULL;
    if (cache->newest) cache->newest->newer = f;
    cache->newest = f;
    if (!cache->oldest) cache->oldest = f;
}

/* ---- entries ------------------------------------------------------------------------- */

static cached_file **bucket_of(file_cache *cache, uint64_t hash) {
    return &cache->buckets[hash & (BUCKETS - 1)];
}

static cached_file *find(file_cache *cache, const char *path, uint64_t hash) {
    for (cached_file *f = *bucket_of(cache, hash); f; f = f->next_in_bucket)
        if (f->hash == hash && strcmp(f->path, path) == 0) return f;
    return NULL;
}

/* Takes `f` out of the cache (the cache's reference goes; lenders keep theirs). */
static void forget(file_cache *cache, cached_file *f) {
    cached_file **link = bucket_of(cache, f->hash);
    while (*link != f) link = &(*link)->next_in_bucket;
    *link = f->next_in_bucket;
    unlink_order(cache, f);
    cache->bytes -= f->size;
    cache->count--;
    f->cached = false;
    cached_file_put(f);
}

void file_cache_free(file_cache *cache) {
    if (!cache) return;
    while (cache->oldest) forget(cache, cache->oldest);
    free(cache);
}

static bool same_file(const cached_file *f, const struct stat *st) {
    return f->dev == st->st_dev && f->ino == st->st_ino && f->size == (uint64_t)st->st_size &&
           f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* Reads all of `fd` (`st` from fstat): the file's bytes, or NULL if it changed size on
 * the way or a read failed. */
static uint8_t *read_all(int fd, const struct stat *st) {
    size_t size = (size_t)st->st_size;
    uint8_t *data = malloc(size ? size : 1);
    if (!data) return NULL;
    size_t got = 0;
    while (got < size) {
        ssize_t r = pread(fd, data + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got != size) {
        free(data);
        return NULL;
    }
    return data;
}

/* Reads the file into a new entry (not in the cache yet). NULL when it cannot be cached:
 * then *fd_out is -1 if it is no readable regular file, else the file, open, for the
 * caller (too large, or reading it whole failed), with its size in *size_out. */
static cached_file *load(const char *path, uint64_t hash, uint64_t now_ns, int *fd_out,
                         uint64_t *size_out) {
    *fd_out = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    cached_file *f = NULL;
    if ((uint64_t)st.st_size <= FILE_CACHE_MAX_FILE) {
        f = calloc(1, sizeof *f);
        if (f) {
            f->data = read_all(fd, &st);
            f->path = strdup(path);
        }
        if (f && (!f->data || !f->path)) {
            free(f->data);
            free(f->path);
            free(f);
            f = NULL;
        }
    }
    if (!f) {
        *fd_out = fd;
        *size_out = (uint64_t)st.st_size;
        return NULL;
    }
    close(fd);
    f->refs = 1;
    f->hash = hash;
    f->size = (uint64_t)st.st_size;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->mtime = st.st_mtim;
    f->checked_ns = now_ns;
    return f;
}

/* Adds `f` (one reference: the cache's), evicting the least recently used beyond the
 * bounds. */
static void insert(file_cache *cache, cached_file *f) {
    cached_file **bucket = bucket_of(cache, f->hash);
    f->next_in_bucket = *bucket;
    *bucket = f;
    link_newest(cache, f);
    f->cached = true;
    cache->bytes += f->size;
    cache->count++;
    while (cache->oldest != f &&
           (cache->bytes > FILE_CACHE_BYTES || cache->count > FILE_CACHE_ENTRIES))
        forget(cache, cache->oldest);
}

cached_file *file_cache_get(file_cache *cache, const char *full_path, uint64_t now_ns,
                            int *fd_out, uint64_t *size_out) {
    *fd_out = -1;
    uint64_t hash = path_hash(full_path);
    cached_file *f = find(cache, full_path, hash);
    if (f && now_ns - f->checked_ns >= FILE_CACHE_RECHECK_NS) {
        struct stat st;
        if (stat(full_path, &st) == 0 && same_file(f, &st)) {
            f->checked_ns = now_ns;
        } else {
            forget(cache, f); /* changed or gone: read again below (or not at all) */
            f = NULL;
        }
    }
    if (!f) {
        f = load(full_path, hash, now_ns, fd_out, size_out);
        if (!f) return NULL;
        insert(cache, f);
    } else {
        unlink_order(cache, f);
        link_newest(cache, f);
    }
    cached_file_hold(f);
    return f;
}
