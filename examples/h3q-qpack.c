/*
 * h3q-qpack: the QPACK offline interop tool, on h3q's QPACK C API.
 *
 *   h3q-qpack decode IN.out.<table>.<blocked>.<ack> OUT.qif
 *   h3q-qpack encode [-t TABLE] [-b BLOCKED] [-a] IN.qif OUT.out
 *
 * QIF: one field per line, "name<TAB>value"; a blank line ends a field list; lines starting
 * with '#' are comments. Encoded files: a sequence of blocks, each an 8-byte big-endian
 * stream id, a 4-byte big-endian length and the payload. Stream 0 carries encoder-stream
 * instructions; field sections use stream ids 1..N in QIF order.
 *
 * decode takes the dynamic table capacity and blocked-stream limit from the file name, and
 * writes the lists in stream-id order (sections may be blocked and come out later). As the
 * offline-interop convention (draft-ietf-quic-qpack-05) has it, the dynamic table starts at
 * its maximum capacity.
 * encode: -t the table capacity the decoder allows (default 0), -b the blocked streams it
 * allows (default 0), -a "immediate acknowledgement": after each section the encoder is fed
 * the decoder-stream instructions a real decoder produced for it.
 *
 * Exit status 0 on success, 1 on a decoding/encoding error, 2 on a usage error.
 */
#include <h3q.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small utilities ------------------------------------------------------------------ */

typedef struct {
    char *data;
    size_t len, cap;
} buffer;

static void die_oom(void) {
    fputs("h3q-qpack: out of memory\n", stderr);
    exit(1);
}

/* Makes room for `need` items of `size` bytes in the array `items` of `*cap` items,
 * doubling it (from `first`); returns the array, moved or not. */
static void *grow(void *items, size_t *cap, size_t need, size_t size, size_t first) {
    if (need <= *cap) return items;
    size_t n = *cap ? *cap : first;
    while (n < need) n *= 2;
    void *grown = realloc(items, n * size);
    if (!grown) die_oom();
    *cap = n;
    return grown;
}

static void buffer_append(buffer *b, const void *data, size_t len) {
    b->data = grow(b->data, &b->cap, b->len + len + 1, 1, 256);
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

static int read_file(const char *path, buffer *out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "h3q-qpack: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buffer_append(out, chunk, n);
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        fprintf(stderr, "h3q-qpack: %s: read error\n", path);
        return -1;
    }
    if (!out->data) buffer_append(out, "", 0);
    return 0;
}

static int write_file(const char *path, const buffer *data) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "h3q-qpack: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t written = data->len ? fwrite(data->data, 1, data->len, f) : 0;
    if (fclose(f) != 0 || written != data->len) {
        fprintf(stderr, "h3q-qpack: %s: write error\n", path);
        return -1;
    }
    return 0;
}

static int parse_u64(const char *text, uint64_t *out) {
    if (!text || !*text) return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno || *end != '\0' || text[0] == '-') return -1;
    *out = value;
    return 0;
}

/* ---- decode ------------------------------------------------------------------------- */

typedef struct {
    uint64_t stream_id;
    buffer qif;
} decoded_list;

typedef struct {
    decoded_list *items;
    size_t len, cap;
} decoded_lists;

static void append_list(decoded_lists *lists, uint64_t stream_id, const h3q_header *headers,
                        size_t count) {
    lists->items = grow(lists->items, &lists->cap, lists->len + 1, sizeof *lists->items, 64);
    decoded_list *list = &lists->items[lists->len++];
    list->stream_id = stream_id;
    memset(&list->qif, 0, sizeof list->qif);
    for (size_t i = 0; i < count; i++) {
        buffer_append(&list->qif, headers[i].name, headers[i].name_len);
        buffer_append(&list->qif, "\t", 1);
        buffer_append(&list->qif, headers[i].value, headers[i].value_len);
        buffer_append(&list->qif, "\n", 1);
    }
    buffer_append(&list->qif, "\n", 1);
}

static int by_stream_id(const void *a, const void *b) {
    uint64_t x = ((const decoded_list *)a)->stream_id, y = ((const decoded_list *)b)->stream_id;
    return (x > y) - (x < y);
}

/* Table capacity and blocked streams from "<name>.out.<table>.<blocked>.<ack>". */
static int settings_from_name(const char *path, uint64_t *table, uint64_t *blocked) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *marker = strstr(base, ".out.");
    if (!marker) return -1;
    char fields[3][32];
    const char *p = marker + 5;
    for (int i = 0; i < 3; i++) {
        size_t n = strcspn(p, ".");
        if (n == 0 || n >= sizeof fields[i]) return -1;
        memcpy(fields[i], p, n);
        fields[i][n] = '\0';
        p += n;
        if (i < 2 && *p++ != '.') return -1;
    }
    return (*p == '\0' && parse_u64(fields[0], table) == 0 &&
            parse_u64(fields[1], blocked) == 0)
               ? 0
               : -1;
}

static uint64_t read_be(const unsigned char *p, int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; i++) value = (value << 8) | p[i];
    return value;
}

static int fail_decoder(const char *path, h3q_qpack_decoder *decoder, h3q_result rc) {
    const char *message = h3q_qpack_decoder_last_error(decoder);
    fprintf(stderr, "h3q-qpack: %s: %s: %s\n", path, h3q_result_str(rc),
            message ? message : "");
    return 1;
}

static int drain_unblocked(h3q_qpack_decoder *decoder, decoded_lists *lists, size_t *pending,
                           const char *path) {
    for (;;) {
        uint64_t stream_id;
        const h3q_header *headers;
        size_t count;
        h3q_result rc = h3q_qpack_decoder_next_unblocked(decoder, &stream_id, &headers, &count);
        if (rc == H3Q_DONE) return 0;
        if (rc != H3Q_OK) return fail_decoder(path, decoder, rc);
        append_list(lists, stream_id, headers, count);
        (*pending)--;
    }
}

static int decode_blocks(const char *path, const buffer *in, h3q_qpack_decoder *decoder,
                         decoded_lists *lists) {
    const unsigned char *p = (const unsigned char *)in->data;
    size_t left = in->len, pending = 0;
    while (left > 0) {
        if (left < 12) {
            fprintf(stderr, "h3q-qpack: %s: truncated block header\n", path);
            return 1;
        }
        uint64_t stream_id = read_be(p, 8);
        uint64_t len = read_be(p + 8, 4);
        p += 12;
        left -= 12;
        if (len > left) {
            fprintf(stderr, "h3q-qpack: %s: block of %" PRIu64 " bytes is truncated\n", path,
                    len);
            return 1;
        }
        if (stream_id == 0) {
            h3q_result rc = h3q_qpack_decoder_feed_encoder(decoder, p, (size_t)len);
            if (rc != H3Q_OK) return fail_decoder(path, decoder, rc);
            if (drain_unblocked(decoder, lists, &pending, path)) return 1;
        } else {
            const h3q_header *headers;
            size_t count;
            h3q_result rc =
                h3q_qpack_decoder_decode(decoder, stream_id, p, (size_t)len, &headers, &count);
            if (rc == H3Q_OK) {
                append_list(lists, stream_id, headers, count);
            } else if (rc == H3Q_BLOCKED) {
                pending++;
            } else {
                return fail_decoder(path, decoder, rc);
            }
        }
        p += len;
        left -= (size_t)len;
    }
    if (pending) {
        fprintf(stderr, "h3q-qpack: %s: %zu field sections are still blocked at the end\n",
                path, pending);
        return 1;
    }
    return 0;
}

static int cmd_decode(const char *in_path, const char *out_path) {
    uint64_t table, blocked;
    if (settings_from_name(in_path, &table, &blocked) != 0) {
        fprintf(stderr, "h3q-qpack: %s: name must end in .out.<table>.<blocked>.<ack>\n",
                in_path);
        return 2;
    }
    buffer in = {0}, out = {0};
    decoded_lists lists = {0};
    h3q_qpack_decoder *decoder = NULL;
    int status = 1;
    if (read_file(in_path, &in) != 0) goto done;
    h3q_result rc = h3q_qpack_decoder_new(table, blocked, &decoder);
    if (rc != H3Q_OK) {
        fprintf(stderr, "h3q-qpack: %s\n", h3q_result_str(rc));
        goto done;
    }
    rc = h3q_qpack_decoder_set_dynamic_table_capacity(decoder, table);
    if (rc != H3Q_OK) {
        status = fail_decoder(in_path, decoder, rc);
        goto done;
    }
    if (decode_blocks(in_path, &in, decoder, &lists) != 0) goto done;
    qsort(lists.items, lists.len, sizeof *lists.items, by_stream_id);
    for (size_t i = 0; i < lists.len; i++) buffer_append(&out, lists.items[i].qif.data,
                                                         lists.items[i].qif.len);
    status = write_file(out_path, &out) == 0 ? 0 : 1;
done:
    for (size_t i = 0; i < lists.len; i++) free(lists.items[i].qif.data);
    free(lists.items);
    free(in.data);
    free(out.data);
    h3q_qpack_decoder_free(decoder);
    return status;
}

/* ---- encode ------------------------------------------------------------------------- */

typedef struct {
    h3q_header *items;
    size_t len, cap;
} header_list;

static void header_list_push(header_list *list, const char *name, size_t name_len,
                             const char *value, size_t value_len) {
    list->items = grow(list->items, &list->cap, list->len + 1, sizeof *list->items, 32);
    h3q_header h = {(const uint8_t *)name, name_len, (const uint8_t *)value, value_len};
    list->items[list->len++] = h;
}

static void append_block(buffer *out, uint64_t stream_id, const uint8_t *data, size_t len) {
    unsigned char header[12];
    for (int i = 0; i < 8; i++) header[i] = (unsigned char)(stream_id >> (56 - 8 * i));
    for (int i = 0; i < 4; i++) header[8 + i] = (unsigned char)((uint64_t)len >> (24 - 8 * i));
    buffer_append(out, header, sizeof header);
    buffer_append(out, data, len);
}

typedef struct {
    h3q_qpack_encoder *encoder;
    h3q_qpack_decoder *acker; /* -a: a decoder whose acknowledgements feed the encoder */
    buffer out;
    uint64_t next_stream_id;
} encode_job;

static int fail_encoder(const encode_job *job, h3q_result rc) {
    const char *message = h3q_qpack_encoder_last_error(job->encoder);
    fprintf(stderr, "h3q-qpack: encode: %s: %s\n", h3q_result_str(rc), message ? message : "");
    return 1;
}

/* Writes pending encoder-stream bytes as a stream-0 block, and hands them to the acker. */
static int flush_encoder_stream(encode_job *job) {
    const uint8_t *data;
    size_t len;
    h3q_result rc = h3q_qpack_encoder_take_encoder_stream(job->encoder, &data, &len);
    if (rc != H3Q_OK) return fail_encoder(job, rc);
    if (len == 0) return 0;
    append_block(&job->out, 0, data, len);
    if (job->acker) {
        rc = h3q_qpack_decoder_feed_encoder(job->acker, data, len);
        if (rc != H3Q_OK) return fail_decoder("ack decoder", job->acker, rc);
    }
    return 0;
}

/* -a: decode the section as the peer would and feed its acknowledgements back. */
static int acknowledge(encode_job *job, uint64_t stream_id, const uint8_t *section,
                       size_t len) {
    const h3q_header *headers;
    size_t count;
    h3q_result rc =
        h3q_qpack_decoder_decode(job->acker, stream_id, section, len, &headers, &count);
    if (rc != H3Q_OK) return fail_decoder("ack decoder", job->acker, rc);
    const uint8_t *instructions;
    size_t instructions_len;
    rc = h3q_qpack_decoder_take_decoder_stream(job->acker, &instructions, &instructions_len);
    if (rc != H3Q_OK) return fail_decoder("ack decoder", job->acker, rc);
    rc = h3q_qpack_encoder_feed_decoder(job->encoder, instructions, instructions_len);
    return rc == H3Q_OK ? 0 : fail_encoder(job, rc);
}

static int encode_list(encode_job *job, const header_list *list) {
    uint64_t stream_id = job->next_stream_id++;
    const uint8_t *section;
    size_t len;
    h3q_result rc = h3q_qpack_encoder_encode(job->encoder, stream_id, list->items, list->len,
                                             &section, &len);
    if (rc != H3Q_OK) return fail_encoder(job, rc);
    /* The section buffer stays valid until the next encoder call: copy it first. */
    buffer copy = {0};
    buffer_append(&copy, section, len);
    int status = flush_encoder_stream(job);
    if (status == 0) {
        append_block(&job->out, stream_id, (const uint8_t *)copy.data, copy.len);
        if (job->acker) status = acknowledge(job, stream_id, (const uint8_t *)copy.data, copy.len);
    }
    free(copy.data);
    return status;
}

/* Parses the QIF in place (it is modified) and encodes each list. */
static int encode_qif(encode_job *job, buffer *qif) {
    header_list list = {0};
    int status = 0;
    char *line = qif->data, *end = qif->data + qif->len;
    while (status == 0 && line < end) {
        char *newline = memchr(line, '\n', (size_t)(end - line));
        char *line_end = newline ? newline : end;
        if (line_end > line && line_end[-1] == '\r') line_end--;
        size_t line_len = (size_t)(line_end - line);
        if (line_len == 0) {
            if (list.len) status = encode_list(job, &list);
            list.len = 0;
        } else if (line[0] != '#') {
            char *tab = memchr(line, '\t', line_len);
            if (tab) {
                header_list_push(&list, line, (size_t)(tab - line), tab + 1,
                                 (size_t)(line_end - tab - 1));
            } else {
                header_list_push(&list, line, line_len, "", 0);
            }
        }
        line = newline ? newline + 1 : end;
    }
    if (status == 0 && list.len) status = encode_list(job, &list);
    free(list.items);
    return status;
}

static int cmd_encode(int argc, char **argv) {
    uint64_t table = 0, blocked = 0;
    int ack = 0, i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "-a") == 0) {
            ack = 1;
        } else if ((strcmp(argv[i], "-t") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc) {
            uint64_t *target = argv[i][1] == 't' ? &table : &blocked;
            if (parse_u64(argv[i + 1], target) != 0) {
                fprintf(stderr, "h3q-qpack: %s needs a number, not '%s'\n", argv[i], argv[i + 1]);
                return 2;
            }
            i++;
        } else {
            fprintf(stderr, "h3q-qpack: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (argc - i != 2) {
        fputs("usage: h3q-qpack encode [-t TABLE] [-b BLOCKED] [-a] IN.qif OUT.out\n", stderr);
        return 2;
    }
    encode_job job = {0};
    job.next_stream_id = 1;
    buffer qif = {0};
    int status = 1;
    if (read_file(argv[i], &qif) != 0) goto done;
    h3q_result rc = h3q_qpack_encoder_new(&job.encoder);
    if (rc == H3Q_OK) rc = h3q_qpack_encoder_apply_settings(job.encoder, table, blocked);
    if (rc == H3Q_OK && ack) rc = h3q_qpack_decoder_new(table, blocked, &job.acker);
    if (rc != H3Q_OK) {
        fprintf(stderr, "h3q-qpack: %s\n", h3q_result_str(rc));
        goto done;
    }
    if (flush_encoder_stream(&job) != 0 || encode_qif(&job, &qif) != 0) goto done;
    status = write_file(argv[i + 1], &job.out) == 0 ? 0 : 1;
done:
    free(qif.data);
    free(job.out.data);
    h3q_qpack_encoder_free(job.encoder);
    h3q_qpack_decoder_free(job.acker);
    return status;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "decode") == 0) return cmd_decode(argv[2], argv[3]);
    if (argc >= 2 && strcmp(argv[1], "encode") == 0) return cmd_encode(argc - 2, argv + 2);
    fputs("usage: h3q-qpack decode IN.out.<table>.<blocked>.<ack> OUT.qif\n"
          "       h3q-qpack encode [-t TABLE] [-b BLOCKED] [-a] IN.qif OUT.out\n",
          stderr);
    return 2;
}
