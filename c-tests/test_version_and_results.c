/* The version, the ABI version, result codes and their ranges, and the wire error codes, as
 * a C user sees them. */
#include "h3q.h"

#include "check.h"

#include <stdio.h>
#include <string.h>

static void last_error_is_null_before_any_failure(void) {
    /* A fresh thread has no error; this test runs first on the main thread. */
    CHECK(h3q_last_error() == NULL);
}

static void result_str_accepts_any_int(void) {
    for (int32_t code = -400; code <= 100; code++) {
        CHECK(h3q_result_str(code) != NULL);
    }
}

/* A *_versioned call given a version this library does not serve refuses it, whatever it
 * is asked to do, and writes nothing. */
static void unknown_abi_versions_are_refused(void) {
    static const int bad[] = {0, -1, H3Q_ABI_VERSION + 1, 1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h3q_config *cfg = NULL;
        CHECK_INT(h3q_config_new_versioned(bad[i], true, &cfg), H3Q_ERR_UNSUPPORTED_VERSION);
        CHECK(cfg == NULL);
        CHECK_PREFIX(h3q_last_error(), "ABI version");
        h3q_settings s;
        memset(&s, 0xab, sizeof s);
        CHECK_INT(h3q_settings_default_versioned(bad[i], &s), H3Q_ERR_UNSUPPORTED_VERSION);
        CHECK_INT(s.max_push_id, 0xababababababababULL);
        h3q_qpack_encoder *enc = NULL;
        CHECK_INT(h3q_qpack_encoder_new_versioned(bad[i], &enc), H3Q_ERR_UNSUPPORTED_VERSION);
        h3q_qpack_decoder *dec = NULL;
        CHECK_INT(h3q_qpack_decoder_new_versioned(bad[i], 0, 0, &dec),
                  H3Q_ERR_UNSUPPORTED_VERSION);
        h3q_conn *conn = NULL;
        CHECK_INT(h3q_conn_new_versioned(bad[i], NULL, NULL, &conn), H3Q_ERR_UNSUPPORTED_VERSION);
        CHECK_INT(h3q_conn_new_quic_versioned(bad[i], NULL, NULL, &conn),
                  H3Q_ERR_UNSUPPORTED_VERSION);
        CHECK(enc == NULL && dec == NULL && conn == NULL);
    }
    /* Version 1 is still served: a program built against h3q 0.1.0 gets its values. */
    h3q_qpack_encoder *enc = NULL;
    CHECK_INT(h3q_qpack_encoder_new_versioned(1, NULL), -2);
    CHECK_INT(h3q_qpack_encoder_new_versioned(1, &enc), H3Q_OK);
    const uint8_t *data;
    size_t len;
    CHECK_INT(h3q_qpack_encoder_take_encoder_stream(enc, NULL, &len), -2);
    CHECK_INT(h3q_qpack_encoder_take_encoder_stream(enc, &data, &len), H3Q_OK);
    h3q_qpack_encoder_free(enc);
}

static void version_matches_header_macros(void) {
    char expected[64];
    snprintf(expected, sizeof expected, "%d.%d.%d", H3Q_VERSION_MAJOR, H3Q_VERSION_MINOR,
             H3Q_VERSION_PATCH);
    CHECK_STR(h3q_version(), expected);
    CHECK_STR(h3q_version(), H3Q_VERSION_STRING);
}

static void every_result_has_its_name(void) {
    static const struct {
        h3q_result code;
        const char *name;
    } codes[] = {
        {H3Q_OK, "H3Q_OK:"},
        {H3Q_BLOCKED, "H3Q_BLOCKED:"},
        {H3Q_DONE, "H3Q_DONE:"},
        {H3Q_ERR_NULL, "H3Q_ERR_NULL:"},
        {H3Q_ERR_INVALID_ARGUMENT, "H3Q_ERR_INVALID_ARGUMENT:"},
        {H3Q_ERR_FRAME_UNEXPECTED, "H3Q_ERR_FRAME_UNEXPECTED:"},
        {H3Q_ERR_INVALID_STREAM_TYPE, "H3Q_ERR_INVALID_STREAM_TYPE:"},
        {H3Q_ERR_NO_AVAILABLE_PUSH_ID, "H3Q_ERR_NO_AVAILABLE_PUSH_ID:"},
        {H3Q_ERR_WRONG_ROLE, "H3Q_ERR_WRONG_ROLE:"},
        {H3Q_ERR_CONNECTION_CLOSED, "H3Q_ERR_CONNECTION_CLOSED:"},
        {H3Q_ERR_TLS, "H3Q_ERR_TLS:"},
        {H3Q_ERR_PROTOCOL, "H3Q_ERR_PROTOCOL:"},
        {H3Q_ERR_TRANSPORT, "H3Q_ERR_TRANSPORT:"},
        {H3Q_ERR_BUFFER_TOO_SMALL, "H3Q_ERR_BUFFER_TOO_SMALL:"},
        {H3Q_ERR_IO, "H3Q_ERR_IO:"},
        {H3Q_ERR_PANIC, "H3Q_ERR_PANIC:"},
        {H3Q_ERR_POISONED, "H3Q_ERR_POISONED:"},
        {H3Q_ERR_UNSUPPORTED_VERSION, "H3Q_ERR_UNSUPPORTED_VERSION:"},
        {H3Q_ERR_INTERNAL, "H3Q_ERR_INTERNAL:"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK_PREFIX(h3q_result_str(codes[i].code), codes[i].name);
    }
    CHECK(H3Q_OK == 0);
}

static void results_sit_in_their_ranges(void) {
    CHECK(H3Q_IS_STATUS(H3Q_OK) && H3Q_IS_STATUS(H3Q_BLOCKED) && H3Q_IS_STATUS(H3Q_DONE));
    static const h3q_result refusals[] = {
        H3Q_ERR_NULL,         H3Q_ERR_INVALID_ARGUMENT, H3Q_ERR_FRAME_UNEXPECTED,
        H3Q_ERR_INVALID_STREAM_TYPE, H3Q_ERR_NO_AVAILABLE_PUSH_ID, H3Q_ERR_WRONG_ROLE,
        H3Q_ERR_TLS,          H3Q_ERR_TRANSPORT,        H3Q_ERR_BUFFER_TOO_SMALL,
        H3Q_ERR_IO,           H3Q_ERR_UNSUPPORTED_VERSION,
    };
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        CHECK(H3Q_IS_REFUSAL(refusals[i]) && !H3Q_IS_FATAL(refusals[i]));
        CHECK(!H3Q_IS_STATUS(refusals[i]));
    }
    static const h3q_result fatal[] = {
        H3Q_ERR_CONNECTION_CLOSED, H3Q_ERR_PROTOCOL, H3Q_ERR_INTERNAL,
        H3Q_ERR_PANIC,             H3Q_ERR_POISONED,
    };
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) {
        CHECK(H3Q_IS_FATAL(fatal[i]) && !H3Q_IS_REFUSAL(fatal[i]));
    }
    CHECK_INT(H3Q_ABI_VERSION, 2);
    CHECK_INT(H3Q_SETTINGS_VERSION, H3Q_ABI_VERSION);
}

/* A program built against h3q 0.1.0's header (ABI version 1) gets version 1's values, and
 * h3q_result_str() names them for it. */
static void version_1_values_are_named(void) {
    CHECK_STR(h3q_result_str(-1), "H3Q_DONE (ABI v1): nothing more");
    CHECK_PREFIX(h3q_result_str(-2), "H3Q_ERR_NULL (ABI v1)");
    CHECK_PREFIX(h3q_result_str(-15), "H3Q_ERR_POISONED (ABI v1)");
}

static void wire_error_codes(void) {
    CHECK_INT(H3Q_H3_NO_ERROR, 0x100);
    CHECK_INT(H3Q_H3_REQUEST_CANCELLED, 0x10c);
    CHECK_INT(H3Q_QPACK_DECODER_STREAM_ERROR, 0x202);
    CHECK_INT(H3Q_H3_DATAGRAM_ERROR, 0x33);
    CHECK_STR(h3q_h3_error_name(H3Q_H3_EXCESSIVE_LOAD), "H3_EXCESSIVE_LOAD");
    CHECK_STR(h3q_h3_error_name(0x200), "QPACK_DECOMPRESSION_FAILED");
    CHECK(h3q_h3_error_name(0x21) == NULL);
}

static void unknown_results_are_named_unknown(void) {
    CHECK_STR(h3q_result_str(3), "unknown h3q_result");
    CHECK_STR(h3q_result_str(-16), "unknown h3q_result");
    CHECK_STR(h3q_result_str(-150), "unknown h3q_result");
    CHECK_STR(h3q_result_str(-9999), "unknown h3q_result");
    CHECK_STR(h3q_result_str(INT32_MIN), "unknown h3q_result");
    CHECK_STR(h3q_result_str(INT32_MAX), "unknown h3q_result");
}

int main(void) {
    RUN(last_error_is_null_before_any_failure);
    RUN(result_str_accepts_any_int);
    RUN(unknown_abi_versions_are_refused);
    RUN(version_matches_header_macros);
    RUN(every_result_has_its_name);
    RUN(results_sit_in_their_ranges);
    RUN(version_1_values_are_named);
    RUN(wire_error_codes);
    RUN(unknown_results_are_named_unknown);
    return CHECK_DONE("test_version_and_results");
}
