/*
 * The QPACK bench's libnghttp3 side: nghttp3's public QPACK API (nghttp3_qpack_encoder_*,
 * nghttp3_qpack_decoder_*), used as nghttp3_conn uses it: one stream context per field
 * section, decoded fields as reference-counted buffers released once read.
 */
#include "qpack_bench.h"

#include <nghttp3/nghttp3.h>

#include <stdio.h>
#include <stdlib.h>

static int ng_fail(const char *what, long long rv) {
    fprintf(stderr, "qpack_vs_nghttp3: nghttp3 %s: %s\n", what, nghttp3_strerror((int)rv));
    return -1;
}

/* The corpus lists as nghttp3_nv, with h3q's never-index fields flagged. */
static void *ng_prepare(const qif_file *file) {
    nghttp3_nv *nva = calloc(file->field_count ? file->field_count : 1, sizeof *nva);
    if (!nva) return NULL;
    for (size_t i = 0; i < file->field_count; i++) {
        const h3q_header *f = &file->fields[i];
        /* nghttp3_nv's pointers are not const; nghttp3 only reads them. */
        nva[i].name = (uint8_t *)(uintptr_t)f->name;
        nva[i].namelen = f->name_len;
        nva[i].value = (uint8_t *)(uintptr_t)f->value;
        nva[i].valuelen = f->value_len;
        nva[i].flags = bench_is_sensitive(f) ? NGHTTP3_NV_FLAG_NEVER_INDEX : NGHTTP3_NV_FLAG_NONE;
    }
    return nva;
}

static void ng_release(void *prepared) {
    free(prepared);
}

/* Decodes one complete section on a fresh stream context. With `expect`, checks each field
 * against it; always counts into `tally`. */
static int ng_decode_section(nghttp3_qpack_decoder *dec, int64_t stream_id, const uint8_t *p,
                             size_t len, const h3q_header *expect, size_t expect_len,
                             decode_tally *tally) {
    nghttp3_qpack_stream_context *sctx;
    int rv = nghttp3_qpack_stream_context_new(&sctx, stream_id, nghttp3_mem_default());
    if (rv != 0) return ng_fail("stream_context_new", rv);
    size_t seen = 0;
    int status = 0;
    for (;;) {
        nghttp3_qpack_nv nv;
        uint8_t flags = 0;
        nghttp3_ssize nread = nghttp3_qpack_decoder_read_request(dec, sctx, &nv, &flags, p, len, 1);
        if (nread < 0) {
            status = ng_fail("read_request", nread);
            break;
        }
        p += nread;
        len -= (size_t)nread;
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT) {
            nghttp3_vec name = nghttp3_rcbuf_get_buf(nv.name);
            nghttp3_vec value = nghttp3_rcbuf_get_buf(nv.value);
            tally->fields++;
            tally->bytes += name.len + value.len;
            if (expect && (seen >= expect_len ||
                           !bench_field_equal(&expect[seen], name.base, name.len, value.base,
                                              value.len))) {
                fprintf(stderr, "qpack_vs_nghttp3: nghttp3 stream %lld field %zu differs\n",
                        (long long)stream_id, seen);
                status = -1;
            }
            seen++;
            nghttp3_rcbuf_decref(nv.name);
            nghttp3_rcbuf_decref(nv.value);
            if (status) break;
        }
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_FINAL) break;
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_BLOCKED) {
            fprintf(stderr, "qpack_vs_nghttp3: nghttp3 stream %lld blocked\n", (long long)stream_id);
            status = -1;
            break;
        }
        if (nread == 0 && !(flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT)) {
            fprintf(stderr, "qpack_vs_nghttp3: nghttp3 stream %lld: no progress\n",
                    (long long)stream_id);
            status = -1;
            break;
        }
    }
    nghttp3_qpack_stream_context_del(sctx);
    if (status == 0 && expect && seen != expect_len) {
        fprintf(stderr, "qpack_vs_nghttp3: nghttp3 stream %lld: %zu fields decoded, %zu sent\n",
                (long long)stream_id, seen, expect_len);
        status = -1;
    }
    return status;
}

/* Takes the decoder's pending decoder-stream bytes into `out` (appended). */
static void ng_take_decoder_stream(nghttp3_qpack_decoder *dec, bench_bytes *out) {
    size_t n = nghttp3_qpack_decoder_get_decoder_streamlen(dec);
    if (n == 0) return;
    out->data = bench_grow(out->data, &out->cap, out->len + n, 1);
    nghttp3_buf buf;
    buf.begin = buf.pos = buf.last = out->data + out->len;
    buf.end = buf.begin + n;
    nghttp3_qpack_decoder_write_decoder(dec, &buf);
    out->len += nghttp3_buf_len(&buf);
}

static int ng_feed_encoder(nghttp3_qpack_decoder *dec, const uint8_t *data, size_t len) {
    nghttp3_ssize nread = nghttp3_qpack_decoder_read_encoder(dec, data, len);
    if (nread < 0) return ng_fail("read_encoder", nread);
    if ((size_t)nread != len) {
        fprintf(stderr, "qpack_vs_nghttp3: nghttp3 read_encoder took %lld of %zu bytes\n",
                (long long)nread, len);
        return -1;
    }
    return 0;
}

static int ng_feed_decoder(nghttp3_qpack_encoder *enc, const uint8_t *data, size_t len) {
    nghttp3_ssize nread = nghttp3_qpack_encoder_read_decoder(enc, data, len);
    if (nread < 0) return ng_fail("read_decoder", nread);
    return (size_t)nread == len ? 0 : -1;
}

/* The encoding half shared by the reference and the timed pass: with `dec`, decode and
 * check each section at once and record the decoder's answer; otherwise feed the encoder
 * `ref`'s recorded answers (when acknowledged). */
static int ng_run(const qif_file *file, const nghttp3_nv *nva, bench_setting s,
                  nghttp3_qpack_decoder *dec, const recording *ref, recording *out) {
    const nghttp3_mem *mem = nghttp3_mem_default();
    nghttp3_qpack_encoder *enc;
    int status = 0;
    recording_reset(out);
    int rv = nghttp3_qpack_encoder_new(&enc, s.table, mem);
    if (rv != 0) return ng_fail("encoder_new", rv);
    nghttp3_qpack_encoder_set_max_dtable_capacity(enc, s.table);
    nghttp3_qpack_encoder_set_max_blocked_streams(enc, s.blocked);
    nghttp3_buf pbuf, rbuf, ebuf;
    nghttp3_buf_init(&pbuf);
    nghttp3_buf_init(&rbuf);
    nghttp3_buf_init(&ebuf);
    for (size_t i = 0; i < file->list_count && status == 0; i++) {
        int64_t stream_id = 4 * (int64_t)i;
        nghttp3_buf_reset(&pbuf);
        nghttp3_buf_reset(&rbuf);
        nghttp3_buf_reset(&ebuf);
        rv = nghttp3_qpack_encoder_encode(enc, &pbuf, &rbuf, &ebuf, stream_id,
                                          nva + file->list_start[i], file->list_len[i]);
        if (rv != 0) {
            status = ng_fail("encoder_encode", rv);
            break;
        }
        size_t sec_start = out->sec.len;
        bench_bytes_append(&out->sec, pbuf.pos, nghttp3_buf_len(&pbuf));
        bench_bytes_append(&out->sec, rbuf.pos, nghttp3_buf_len(&rbuf));
        bench_bytes_append(&out->es, ebuf.pos, nghttp3_buf_len(&ebuf));
        if (dec) {
            size_t ds_start = out->ds.len;
            status = ng_feed_encoder(dec, ebuf.pos, nghttp3_buf_len(&ebuf));
            decode_tally tally = {0, 0};
            if (status == 0)
                status = ng_decode_section(dec, stream_id, out->sec.data + sec_start,
                                           out->sec.len - sec_start,
                                           file->fields + file->list_start[i],
                                           file->list_len[i], &tally);
            if (status == 0) ng_take_decoder_stream(dec, &out->ds);
            if (status == 0 && s.ack)
                status = ng_feed_decoder(enc, out->ds.data + ds_start, out->ds.len - ds_start);
        } else if (s.ack) {
            size_t len;
            const uint8_t *ds = recording_slice(&ref->ds, ref->ds_end, i, &len);
            status = ng_feed_decoder(enc, ds, len);
        }
        recording_end_step(out);
    }
    nghttp3_buf_free(&pbuf, mem);
    nghttp3_buf_free(&rbuf, mem);
    nghttp3_buf_free(&ebuf, mem);
    nghttp3_qpack_encoder_del(enc);
    return status;
}

static int ng_reference(const qif_file *file, void *prepared, bench_setting s, recording *out) {
    nghttp3_qpack_decoder *dec;
    int rv = nghttp3_qpack_decoder_new(&dec, s.table, s.blocked, nghttp3_mem_default());
    if (rv != 0) return ng_fail("decoder_new", rv);
    int status = ng_run(file, prepared, s, dec, NULL, out);
    nghttp3_qpack_decoder_del(dec);
    return status;
}

static int ng_encode(const qif_file *file, void *prepared, bench_setting s, const recording *ref,
                     recording *out) {
    return ng_run(file, prepared, s, NULL, ref, out);
}

static int ng_decode(const recording *ref, bench_setting s, decode_tally *tally) {
    nghttp3_qpack_decoder *dec;
    int rv = nghttp3_qpack_decoder_new(&dec, s.table, s.blocked, nghttp3_mem_default());
    if (rv != 0) return ng_fail("decoder_new", rv);
    bench_bytes ds = {0};
    int status = 0;
    for (size_t i = 0; i < ref->steps && status == 0; i++) {
        size_t len;
        const uint8_t *data = recording_slice(&ref->es, ref->es_end, i, &len);
        status = ng_feed_encoder(dec, data, len);
        data = recording_slice(&ref->sec, ref->sec_end, i, &len);
        if (status == 0)
            status = ng_decode_section(dec, 4 * (int64_t)i, data, len, NULL, 0, tally);
        ds.len = 0;
        ng_take_decoder_stream(dec, &ds);
    }
    bench_bytes_free(&ds);
    nghttp3_qpack_decoder_del(dec);
    return status;
}

const bench_codec codec_nghttp3 = {
    "nghttp3", ng_prepare, ng_release, ng_reference, ng_encode, ng_decode,
};
