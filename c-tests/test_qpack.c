/* The standalone QPACK C API: encode/decode round trips, blocked sections that resume,
 * stream cancellation, and malformed input reported with the RFC error. */
#include "h3q.h"

#include "check.h"

#include <string.h>

#define HDR(n, v) {(const uint8_t *)(n), sizeof(n) - 1, (const uint8_t *)(v), sizeof(v) - 1}

static int header_is(const h3q_header *h, const char *name, const char *value) {
    return h->name_len == strlen(name) && memcmp(h->name, name, h->name_len) == 0 &&
           h->value_len == strlen(value) && memcmp(h->value, value, h->value_len) == 0;
}

/* Feeds every encoder-stream byte the encoder produced to the decoder. */
static void pass_encoder_stream(h3q_qpack_encoder *enc, h3q_qpack_decoder *dec) {
    const uint8_t *data;
    size_t len;
    CHECK_INT(h3q_qpack_encoder_take_encoder_stream(enc, &data, &len), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_feed_encoder(dec, data, len), H3Q_OK);
}

static void round_trip_with_dynamic_table(void) {
    static const h3q_header request[] = {
        HDR(":method", "GET"),           HDR(":scheme", "https"),
        HDR(":authority", "example.com"), HDR(":path", "/index.html"),
        HDR("x-custom", "a value that repeats"), HDR("authorization", "secret"),
    };
    const size_t n = sizeof request / sizeof request[0];
    h3q_qpack_encoder *enc = NULL;
    h3q_qpack_decoder *dec = NULL;
    CHECK_INT(h3q_qpack_encoder_new(&enc), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_new(4096, 16, &dec), H3Q_OK);
    CHECK_INT(h3q_qpack_encoder_apply_settings(enc, 4096, 16), H3Q_OK);
    for (uint64_t stream_id = 0; stream_id < 40; stream_id += 4) {
        const uint8_t *section;
        size_t section_len;
        CHECK_INT(h3q_qpack_encoder_encode(enc, stream_id, request, n, &section, &section_len),
                  H3Q_OK);
        uint8_t copy[512];
        CHECK(section_len <= sizeof copy);
        memcpy(copy, section, section_len);
        pass_encoder_stream(enc, dec);
        const h3q_header *fields;
        size_t count = 0;
        CHECK_INT(h3q_qpack_decoder_decode(dec, stream_id, copy, section_len, &fields, &count),
                  H3Q_OK);
        CHECK_INT(count, n);
        for (size_t i = 0; i < n && i < count; i++) {
            CHECK(fields[i].name_len == request[i].name_len &&
                  memcmp(fields[i].name, request[i].name, fields[i].name_len) == 0);
            CHECK(fields[i].value_len == request[i].value_len &&
                  memcmp(fields[i].value, request[i].value, fields[i].value_len) == 0);
        }
        const uint8_t *acks;
        size_t acks_len;
        CHECK_INT(h3q_qpack_decoder_take_decoder_stream(dec, &acks, &acks_len), H3Q_OK);
        CHECK_INT(h3q_qpack_encoder_feed_decoder(enc, acks, acks_len), H3Q_OK);
    }
    h3q_qpack_encoder_free(enc);
    h3q_qpack_decoder_free(dec);
}

/* RFC 9204 Appendix B.2: a section that references entries not yet inserted. */
static const uint8_t b2_encoder_stream[] = {
    0x3f, 0xbd, 0x01, 0xc0, 0x0f, 'w', 'w', 'w', '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e',
    '.',  'c',  'o',  'm',  0xc1, 0x0c, '/', 's', 'a', 'm', 'p', 'l', 'e', '/', 'p', 'a',
    't',  'h'};
static const uint8_t b2_section[] = {0x03, 0x81, 0x10, 0x11};

static void blocked_section_resumes_after_encoder_stream(void) {
    h3q_qpack_decoder *dec = NULL;
    CHECK_INT(h3q_qpack_decoder_new(220, 1, &dec), H3Q_OK);
    const h3q_header *fields = NULL;
    size_t count = 99;
    CHECK_INT(h3q_qpack_decoder_decode(dec, 4, b2_section, sizeof b2_section, &fields, &count),
              H3Q_BLOCKED);
    CHECK(fields == NULL && count == 99); /* nothing written while blocked */
    uint64_t stream_id = 0;
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, &stream_id, &fields, &count), H3Q_DONE);
    CHECK_INT(h3q_qpack_decoder_feed_encoder(dec, b2_encoder_stream, sizeof b2_encoder_stream),
              H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, &stream_id, &fields, &count), H3Q_OK);
    CHECK_INT(stream_id, 4);
    CHECK_INT(count, 2);
    if (count == 2) {
        CHECK(header_is(&fields[0], ":authority", "www.example.com"));
        CHECK(header_is(&fields[1], ":path", "/sample/path"));
    }
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, &stream_id, &fields, &count), H3Q_DONE);
    const uint8_t *instructions;
    size_t len;
    CHECK_INT(h3q_qpack_decoder_take_decoder_stream(dec, &instructions, &len), H3Q_OK);
    CHECK_INT(len, 1);
    if (len == 1) CHECK_INT(instructions[0], 0x84); /* Section Acknowledgement, stream 4 */
    h3q_qpack_decoder_free(dec);
}

static void cancelled_blocked_stream_sends_one_cancellation(void) {
    h3q_qpack_decoder *dec = NULL;
    CHECK_INT(h3q_qpack_decoder_new(220, 1, &dec), H3Q_OK);
    const h3q_header *fields;
    size_t count;
    CHECK_INT(h3q_qpack_decoder_decode(dec, 4, b2_section, sizeof b2_section, &fields, &count),
              H3Q_BLOCKED);
    /* A second blocked stream exceeds the limit of 1. */
    CHECK_INT(h3q_qpack_decoder_decode(dec, 8, b2_section, sizeof b2_section, &fields, &count),
              H3Q_ERR_PROTOCOL);
    CHECK_PREFIX(h3q_qpack_decoder_last_error(dec), "QPACK_DECOMPRESSION_FAILED (0x200)");
    h3q_qpack_decoder_free(dec);

    CHECK_INT(h3q_qpack_decoder_new(220, 1, &dec), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_decode(dec, 4, b2_section, sizeof b2_section, &fields, &count),
              H3Q_BLOCKED);
    CHECK_INT(h3q_qpack_decoder_cancel_stream(dec, 4), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_cancel_stream(dec, 4), H3Q_OK);
    const uint8_t *instructions;
    size_t len;
    CHECK_INT(h3q_qpack_decoder_take_decoder_stream(dec, &instructions, &len), H3Q_OK);
    CHECK_INT(len, 1);
    if (len == 1) CHECK_INT(instructions[0], 0x44); /* Stream Cancellation, stream 4 */
    CHECK_INT(h3q_qpack_decoder_feed_encoder(dec, b2_encoder_stream, sizeof b2_encoder_stream),
              H3Q_OK);
    uint64_t stream_id;
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, &stream_id, &fields, &count), H3Q_DONE);
    h3q_qpack_decoder_free(dec);
}

static void malformed_input_gives_the_rfc_error(void) {
    h3q_qpack_decoder *dec = NULL;
    h3q_qpack_encoder *enc = NULL;
    CHECK_INT(h3q_qpack_decoder_new(0, 0, &dec), H3Q_OK);
    CHECK_INT(h3q_qpack_encoder_new(&enc), H3Q_OK);
    const h3q_header *fields;
    size_t count;
    static const uint8_t bad_section[] = {0x00, 0x00, 0xff}; /* static index 63+ truncated */
    CHECK_INT(h3q_qpack_decoder_decode(dec, 0, bad_section, sizeof bad_section, &fields, &count),
              H3Q_ERR_PROTOCOL);
    CHECK_PREFIX(h3q_qpack_decoder_last_error(dec), "QPACK_DECOMPRESSION_FAILED (0x200)");
    static const uint8_t bad_insert[] = {0x3f, 0xe1, 0x1f}; /* capacity 4096 > max 0 */
    CHECK_INT(h3q_qpack_decoder_feed_encoder(dec, bad_insert, sizeof bad_insert),
              H3Q_ERR_PROTOCOL);
    CHECK_PREFIX(h3q_qpack_decoder_last_error(dec), "QPACK_ENCODER_STREAM_ERROR (0x201)");
    static const uint8_t bad_ack[] = {0x81}; /* ack for stream 1: nothing outstanding */
    CHECK_INT(h3q_qpack_encoder_feed_decoder(enc, bad_ack, sizeof bad_ack), H3Q_ERR_PROTOCOL);
    CHECK_PREFIX(h3q_qpack_encoder_last_error(enc), "QPACK_DECODER_STREAM_ERROR (0x202)");
    h3q_qpack_decoder_free(dec);
    h3q_qpack_encoder_free(enc);
}

static void field_section_size_limit(void) {
    static const h3q_header big[] = {HDR("x-big", "0123456789012345678901234567890123456789")};
    h3q_qpack_encoder *enc = NULL;
    h3q_qpack_decoder *dec = NULL;
    CHECK_INT(h3q_qpack_encoder_new(&enc), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_new(0, 0, &dec), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_set_max_field_section_size(dec, 50), H3Q_OK);
    const uint8_t *section;
    size_t len;
    CHECK_INT(h3q_qpack_encoder_encode(enc, 0, big, 1, &section, &len), H3Q_OK);
    const h3q_header *fields;
    size_t count;
    CHECK_INT(h3q_qpack_decoder_decode(dec, 0, section, len, &fields, &count), H3Q_ERR_PROTOCOL);
    CHECK_PREFIX(h3q_qpack_decoder_last_error(dec), "QPACK_DECOMPRESSION_FAILED (0x200)");
    h3q_qpack_encoder_free(enc);
    h3q_qpack_decoder_free(dec);
}

int main(void) {
    RUN(round_trip_with_dynamic_table);
    RUN(blocked_section_resumes_after_encoder_stream);
    RUN(cancelled_blocked_stream_sends_one_cancellation);
    RUN(malformed_input_gives_the_rfc_error);
    RUN(field_section_size_limit);
    return CHECK_DONE("test_qpack");
}
