/*
 * The QPACK comparison bench (qpack_vs_nghttp3): what its parts share.
 *
 * A corpus file is a QIF (header lists, "name<TAB>value" lines, a blank line between
 * lists). A codec (h3q's C API, or libnghttp3's) runs three kinds of pass over a file at a
 * setting (table capacity, blocked streams, acknowledgements on or off):
 *
 *  - reference: encode every list with a decoder of the same library in step (it gets the
 *    encoder-stream bytes and the section at once, as a peer would with in-order delivery),
 *    check that each decoded list equals the input, and record per section the
 *    encoder-stream bytes, the section and the decoder-stream bytes the decoder answered.
 *    With acknowledgements on, those decoder-stream bytes go back to the encoder.
 *  - encode (timed): a fresh encoder encodes every list; with acknowledgements on it is fed
 *    the recorded decoder-stream bytes after each section, exactly as in the reference, so
 *    it does the same work without a decoder running beside it. The output must equal the
 *    reference byte for byte.
 *  - decode (timed): a fresh decoder decodes the reference recording (encoder-stream bytes,
 *    then the section, then the decoder-stream bytes taken), and the count and total length
 *    of the fields it produced must equal the input's.
 */
#ifndef QPACK_BENCH_H
#define QPACK_BENCH_H

#include <h3q.h>

#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} bench_bytes;

void bench_bytes_append(bench_bytes *b, const void *data, size_t len);
void bench_bytes_free(bench_bytes *b);

/* Makes room for `need` items of `size` bytes; exits on allocation failure. */
void *bench_grow(void *items, size_t *cap, size_t need, size_t size);

/* One QIF file: its lists as h3q_header arrays pointing into `text`. */
typedef struct {
    char name[64];
    char *text;
    h3q_header *fields;
    size_t field_count;
    size_t *list_start; /* index of each list's first field */
    size_t *list_len;
    size_t list_count;
    uint64_t field_bytes; /* sum of name and value lengths over all fields */
} qif_file;

/* Loads every *.qif in `dir`, sorted by name. Returns the number loaded (0 with a message
 * when the directory cannot be read or holds none). */
size_t qif_load_dir(const char *dir, qif_file **files_out);
void qif_free(qif_file *files, size_t count);

/* A dynamic table capacity, blocked-streams limit, and whether the encoder is acknowledged. */
typedef struct {
    uint64_t table;
    uint64_t blocked;
    int ack;
} bench_setting;

/* What one encoding of a file produced, section by section: the encoder-stream bytes
 * written with section i, the section, and the decoder-stream bytes an immediate decoder
 * answered (recorded in the reference pass only). `*_end[i]` is the end offset of step i. */
typedef struct {
    bench_bytes es, sec, ds;
    size_t *es_end, *sec_end, *ds_end;
    size_t steps, cap;
} recording;

void recording_reset(recording *r);
/* Closes step i (the bytes appended since the previous step belong to it). */
void recording_end_step(recording *r);
void recording_free(recording *r);
/* Step i's slice of one of the three streams. */
const uint8_t *recording_slice(const bench_bytes *b, const size_t *ends, size_t i, size_t *len);
/* Whether two recordings hold the same encoder-stream and section bytes. */
int recording_same_output(const recording *a, const recording *b);

/* Field count and total name+value length a decode pass saw (checked against the input). */
typedef struct {
    uint64_t fields;
    uint64_t bytes;
} decode_tally;

/* One library's side of the bench. Each function returns 0, or -1 after printing why. */
typedef struct {
    const char *name;
    /* The library's own form of the file's lists (made once, untimed), or NULL on failure. */
    void *(*prepare)(const qif_file *file);
    void (*release)(void *prepared);
    int (*reference)(const qif_file *file, void *prepared, bench_setting s, recording *out);
    int (*encode)(const qif_file *file, void *prepared, bench_setting s, const recording *ref,
                  recording *out);
    int (*decode)(const recording *ref, bench_setting s, decode_tally *tally);
} bench_codec;

extern const bench_codec codec_h3q;
extern const bench_codec codec_nghttp3;

/* h3q's never-index rule (src/qpack/encoder/representation.rs, is_sensitive): nghttp3 is
 * given NGHTTP3_NV_FLAG_NEVER_INDEX on the same fields, so neither side indexes them. */
int bench_is_sensitive(const h3q_header *field);

/* Whether a decoded field equals the expected one. */
int bench_field_equal(const h3q_header *expected, const uint8_t *name, size_t name_len,
                      const uint8_t *value, size_t value_len);

#endif
