/* The standalone QPACK C API given NULL or invalid arguments: every call returns its
 * documented code and never crashes. (Misuse of the other areas lives with them:
 * test_conn_misuse.c for h3q_conn, test_quic_endpoint.c for the QUIC layer,
 * test_version_and_results.c for versions.) */
#include "h3q.h"

#include "check.h"

static void qpack_decoder_rejects_null_and_bad_arguments(void) {
    const h3q_header *fields;
    size_t count;
    uint64_t stream_id;
    const uint8_t *data;
    size_t len;
    static const uint8_t byte = 0;
    CHECK_INT(h3q_qpack_decoder_new(0, 0, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_last_error(), "out is NULL");
    CHECK_INT(h3q_qpack_decoder_set_max_field_section_size(NULL, 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_set_dynamic_table_capacity(NULL, 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_feed_encoder(NULL, &byte, 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_decode(NULL, 0, &byte, 1, &fields, &count), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_next_unblocked(NULL, &stream_id, &fields, &count), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_cancel_stream(NULL, 0), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_take_decoder_stream(NULL, &data, &len), H3Q_ERR_NULL);
    CHECK(h3q_qpack_decoder_last_error(NULL) == NULL);
    h3q_qpack_decoder_free(NULL);

    h3q_qpack_decoder *dec = NULL;
    CHECK_INT(h3q_qpack_decoder_new(100, 1, &dec), H3Q_OK);
    CHECK(h3q_qpack_decoder_last_error(dec) == NULL);
    CHECK_INT(h3q_qpack_decoder_feed_encoder(dec, NULL, 5), H3Q_ERR_NULL);
    CHECK_STR(h3q_qpack_decoder_last_error(dec), "data is NULL");
    CHECK_INT(h3q_qpack_decoder_feed_encoder(dec, NULL, 0), H3Q_OK);
    CHECK_INT(h3q_qpack_decoder_decode(dec, 0, NULL, 3, &fields, &count), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_decode(dec, 0, &byte, 1, NULL, &count), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_decode(dec, 0, &byte, 1, &fields, NULL), H3Q_ERR_NULL);
    CHECK_STR(h3q_qpack_decoder_last_error(dec), "headers_len_out is NULL");
    CHECK_INT(h3q_qpack_decoder_decode(dec, 0, NULL, 0, &fields, &count), H3Q_ERR_PROTOCOL);
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, NULL, &fields, &count), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, &stream_id, NULL, &count), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_next_unblocked(dec, &stream_id, &fields, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_take_decoder_stream(dec, NULL, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_take_decoder_stream(dec, &data, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_decoder_set_dynamic_table_capacity(dec, 101), H3Q_ERR_PROTOCOL);
    CHECK_INT(h3q_qpack_decoder_cancel_stream(dec, UINT64_MAX), H3Q_OK);
    h3q_qpack_decoder_free(dec);
}

static void qpack_encoder_rejects_null_and_bad_arguments(void) {
    const uint8_t *data;
    size_t len;
    static const uint8_t byte = 0x80;
    h3q_header header = {NULL, 3, (const uint8_t *)"v", 1};
    CHECK_INT(h3q_qpack_encoder_new(NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_apply_settings(NULL, 0, 0), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_encode(NULL, 0, &header, 1, &data, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_take_encoder_stream(NULL, &data, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_feed_decoder(NULL, &byte, 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_stream_cancelled(NULL, 0), H3Q_ERR_NULL);
    CHECK(h3q_qpack_encoder_last_error(NULL) == NULL);
    h3q_qpack_encoder_free(NULL);

    h3q_qpack_encoder *enc = NULL;
    CHECK_INT(h3q_qpack_encoder_new(&enc), H3Q_OK);
    CHECK_INT(h3q_qpack_encoder_encode(enc, 0, &header, 1, &data, &len), H3Q_ERR_NULL);
    CHECK_STR(h3q_qpack_encoder_last_error(enc), "headers[0]: header name is NULL");
    CHECK_INT(h3q_qpack_encoder_encode(enc, 0, NULL, 2, &data, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_encode(enc, 0, NULL, 0, NULL, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_encode(enc, 0, NULL, 0, &data, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_encode(enc, 0, NULL, 0, &data, &len), H3Q_OK);
    CHECK_INT(len, 2); /* an empty section: Required Insert Count 0, Base 0 */
    CHECK_INT(h3q_qpack_encoder_take_encoder_stream(enc, NULL, &len), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_take_encoder_stream(enc, &data, NULL), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_feed_decoder(enc, NULL, 1), H3Q_ERR_NULL);
    CHECK_INT(h3q_qpack_encoder_feed_decoder(enc, &byte, 1), H3Q_ERR_PROTOCOL);
    h3q_qpack_encoder_free(enc);
}

int main(void) {
    RUN(qpack_decoder_rejects_null_and_bad_arguments);
    RUN(qpack_encoder_rejects_null_and_bad_arguments);
    return CHECK_DONE("test_qpack_misuse");
}
