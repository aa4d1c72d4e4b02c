/* The version and result-code strings, as a C user sees them. */
#include "h3q.h"

#include "check.h"

#include <stdio.h>

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
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        CHECK_PREFIX(h3q_result_str(codes[i].code), codes[i].name);
    }
    CHECK(H3Q_OK == 0);
}

static void unknown_results_are_named_unknown(void) {
    CHECK_STR(h3q_result_str(2), "unknown h3q_result");
    CHECK_STR(h3q_result_str(-9999), "unknown h3q_result");
    CHECK_STR(h3q_result_str(INT32_MIN), "unknown h3q_result");
    CHECK_STR(h3q_result_str(INT32_MAX), "unknown h3q_result");
}

int main(void) {
    RUN(version_matches_header_macros);
    RUN(every_result_has_its_name);
    RUN(unknown_results_are_named_unknown);
    return CHECK_DONE("test_version");
}
