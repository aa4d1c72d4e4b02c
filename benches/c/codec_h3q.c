/*
 * The QPACK bench's h3q side: h3q's QPACK C API (h3q_qpack_encoder_*, h3q_qpack_decoder_*).
 */
#include "qpack_bench.h"

#include <stdio.h>

static int h3q_fail(const char *what, h3q_result rc, const char *message) {
    fprintf(stderr, "qpack_vs_nghttp3: h3q %s: %s: %s\n", what, h3q_result_str(rc),
            message ? message : "");
    return -1;
}

#define ENC_CHECK(call)                                                                  \
    do {                                                                                 \
        h3q_result rc_ = (call);                                                         \
        if (rc_ != H3Q_OK) {                                                             \
            status = h3q_fail(#call, rc_, h3q_qpack_encoder_last_error(enc));            \
            goto done;                                                                   \
        }                                                                                \
    } while (0)

#define DEC_CHECK(call)                                                                  \
    do {                                                                                 \
        h3q_result rc_ = (call);                                                         \
        if (rc_ != H3Q_OK) {                                                             \
            status = h3q_fail(#call, rc_, h3q_qpack_decoder_last_error(dec));            \
            goto done;                                                                   \
        }                                                                                \
    } while (0)

/* h3q takes the corpus' h3q_header arrays as they are. */
static void *h3q_prepare(const qif_file *file) {
    return (void *)file;
}

static void h3q_release(void *prepared) {
    (void)prepared;
}

static int h3q_reference(const qif_file *file, void *prepared, bench_setting s,
                         recording *out) {
    (void)prepared;
    h3q_qpack_encoder *enc = NULL;
    h3q_qpack_decoder *dec = NULL;
    int status = 0;
    recording_reset(out);
    ENC_CHECK(h3q_qpack_encoder_new(&enc));
    ENC_CHECK(h3q_qpack_encoder_apply_settings(enc, s.table, s.blocked));
    DEC_CHECK(h3q_qpack_decoder_new(s.table, s.blocked, &dec));
    for (size_t i = 0; i < file->list_count; i++) {
        uint64_t stream_id = 4 * (uint64_t)i;
        const h3q_header *list = file->fields + file->list_start[i];
        const uint8_t *data;
        size_t len;
        ENC_CHECK(h3q_qpack_encoder_encode(enc, stream_id, list, file->list_len[i], &data, &len));
        bench_bytes_append(&out->sec, data, len);
        ENC_CHECK(h3q_qpack_encoder_take_encoder_stream(enc, &data, &len));
        bench_bytes_append(&out->es, data, len);
        DEC_CHECK(h3q_qpack_decoder_feed_encoder(dec, data, len));
        size_t start = out->steps ? out->sec_end[out->steps - 1] : 0;
        const h3q_header *fields;
        size_t count;
        DEC_CHECK(h3q_qpack_decoder_decode(dec, stream_id, out->sec.data + start,
                                           out->sec.len - start, &fields, &count));
        if (count != file->list_len[i]) {
            fprintf(stderr, "qpack_vs_nghttp3: h3q %s list %zu: %zu fields decoded, %zu sent\n",
                    file->name, i, count, file->list_len[i]);
            status = -1;
            goto done;
        }
        for (size_t k = 0; k < count; k++) {
            if (!bench_field_equal(&list[k], fields[k].name, fields[k].name_len,
                                   fields[k].value, fields[k].value_len)) {
                fprintf(stderr, "qpack_vs_nghttp3: h3q %s list %zu field %zu differs\n",
                        file->name, i, k);
                status = -1;
                goto done;
            }
        }
        DEC_CHECK(h3q_qpack_decoder_take_decoder_stream(dec, &data, &len));
        bench_bytes_append(&out->ds, data, len);
        if (s.ack) ENC_CHECK(h3q_qpack_encoder_feed_decoder(enc, data, len));
        recording_end_step(out);
    }
done:
    h3q_qpack_encoder_free(enc);
    h3q_qpack_decoder_free(dec);
    return status;
}

static int h3q_encode(const qif_file *file, void *prepared, bench_setting s, const recording *ref,
                      recording *out) {
    (void)prepared;
    h3q_qpack_encoder *enc = NULL;
    int status = 0;
    recording_reset(out);
    ENC_CHECK(h3q_qpack_encoder_new(&enc));
    ENC_CHECK(h3q_qpack_encoder_apply_settings(enc, s.table, s.blocked));
    for (size_t i = 0; i < file->list_count; i++) {
        const uint8_t *data;
        size_t len;
        ENC_CHECK(h3q_qpack_encoder_encode(enc, 4 * (uint64_t)i,
                                           file->fields + file->list_start[i],
                                           file->list_len[i], &data, &len));
        bench_bytes_append(&out->sec, data, len);
        ENC_CHECK(h3q_qpack_encoder_take_encoder_stream(enc, &data, &len));
        bench_bytes_append(&out->es, data, len);
        if (s.ack) {
            const uint8_t *ds = recording_slice(&ref->ds, ref->ds_end, i, &len);
            ENC_CHECK(h3q_qpack_encoder_feed_decoder(enc, ds, len));
        }
        recording_end_step(out);
    }
done:
    h3q_qpack_encoder_free(enc);
    return status;
}

static int h3q_decode(const recording *ref, bench_setting s, decode_tally *tally) {
    h3q_qpack_decoder *dec = NULL;
    int status = 0;
    DEC_CHECK(h3q_qpack_decoder_new(s.table, s.blocked, &dec));
    for (size_t i = 0; i < ref->steps; i++) {
        size_t len;
        const uint8_t *data = recording_slice(&ref->es, ref->es_end, i, &len);
        DEC_CHECK(h3q_qpack_decoder_feed_encoder(dec, data, len));
        data = recording_slice(&ref->sec, ref->sec_end, i, &len);
        const h3q_header *fields;
        size_t count;
        DEC_CHECK(h3q_qpack_decoder_decode(dec, 4 * (uint64_t)i, data, len, &fields, &count));
        tally->fields += count;
        for (size_t k = 0; k < count; k++) tally->bytes += fields[k].name_len + fields[k].value_len;
        DEC_CHECK(h3q_qpack_decoder_take_decoder_stream(dec, &data, &len));
    }
done:
    h3q_qpack_decoder_free(dec);
    return status;
}

const bench_codec codec_h3q = {
    "h3q", h3q_prepare, h3q_release, h3q_reference, h3q_encode, h3q_decode,
};
