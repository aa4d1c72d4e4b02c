/*
 * file_cache: small files under --root served from memory.
 *
 * Opening, checking and reading a file for every request was a third of h3q-server's CPU
 * per small request (open, fstat, pread and close: four system calls and a path lookup),
 * more than h3q itself. So a file of up to FILE_CACHE_MAX_FILE bytes is read once and kept,
 * and its bytes are lent to h3q straight from the cache (h3q_conn_send_data_zerocopy): no
 * system call and no copy per request.
 *
 * Freshness: a cached file is checked again (one stat(), no open) when it was last checked
 * more than FILE_CACHE_RECHECK_NS ago; if its inode, size or modification time changed, or
 * it is gone, the cache reads it again (or forgets it). So a change shows within a second
 * and one stat() a second per busy file is all it costs. A response under way keeps the
 * bytes it started with: each piece lent to h3q holds a reference to its cached_file,
 * released by h3q when the client acknowledged it, so a file replaced or evicted
 * meanwhile stays in memory until its last piece is released.
 *
 * Bounds: at most FILE_CACHE_ENTRIES files and FILE_CACHE_BYTES bytes; the least recently
 * used go first. Larger files are read for each request as before (connections.c), from
 * the descriptor file_cache_get() opened while finding out.
 *
 * One cache per worker, used by that worker's thread only (h3q calls the release callback
 * on the thread that drives the endpoint), so there is no locking.
 */
#ifndef H3Q_SERVER_FILE_CACHE_H
#define H3Q_SERVER_FILE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define FILE_CACHE_MAX_FILE (1u << 20)      /* larger files are not cached */
#define FILE_CACHE_BYTES ((size_t)64 << 20) /* all cached files together */
#define FILE_CACHE_ENTRIES 4096
#define FILE_CACHE_RECHECK_NS 1000000000ULL

typedef struct file_cache file_cache;
typedef struct cached_file cached_file;

/* An empty cache, or NULL when out of memory. */
file_cache *file_cache_new(void);

/* Forgets every file; those still lent to h3q are freed when released. NULL is fine. */
void file_cache_free(file_cache *cache);

/* The file at `full_path` (already checked to be under --root) from the cache, read into
 * it first if needed, as a new reference for the caller (cached_file_put() when done).
 * NULL when it cannot be cached: then *fd_out is -1 when it is not a readable regular file
 * (404), else the file, opened once here, for the caller to read chunk by chunk and close
 * (larger than FILE_CACHE_MAX_FILE, or reading it whole failed), its size in *size_out. */
cached_file *file_cache_get(file_cache *cache, const char *full_path, uint64_t now_ns,
                            int *fd_out, uint64_t *size_out);

const uint8_t *cached_file_data(const cached_file *file);
uint64_t cached_file_size(const cached_file *file);

/* Takes one more reference (one per piece lent to h3q). */
void cached_file_hold(cached_file *file);

/* Drops a reference; the last one frees the file. */
void cached_file_put(cached_file *file);

/* cached_file_put() as an h3q_release_cb (`ctx` is the cached_file). */
void cached_file_release(void *ctx);

#endif
