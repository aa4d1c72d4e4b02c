/*
 * The test of ex_h3's text helpers (CTest examples_h3_text): ex_format_u64 against
 * snprintf's "%" PRIu64 over the edges (0, each power of ten and the number before it,
 * UINT64_MAX) and a spread of values, each read back with ex_parse_u64; ex_parse_u64's
 * refusals (empty, non-digits, over the maximum); ex_hdr and ex_hdr_is. Exit status 0
 * when all pass.
 */
#include "ex_h3.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "ex_h3_test: %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

static void check_number(uint64_t v) {
    char got[EX_U64_LEN], want[EX_U64_LEN];
    size_t n = ex_format_u64(v, got);
    snprintf(want, sizeof want, "%" PRIu64, v);
    if (strcmp(got, want) != 0 || n != strlen(want)) {
        fprintf(stderr, "ex_h3_test: ex_format_u64(%s) wrote \"%s\" (%zu)\n", want, got, n);
        failures++;
        return;
    }
    uint64_t back = 0;
    CHECK(ex_parse_u64(got, n, UINT64_MAX, &back) && back == v);
}

int main(void) {
    check_number(0);
    check_number(UINT64_MAX);
    for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
        check_number(p);
        check_number(p - 1);
        check_number(p * 10 - 1);
    }
    for (uint64_t v = 1, i = 0; i < 1000; i++, v = v * 6364136223846793005u + 1442695040888963407u)
        check_number(v >> (i % 64));

    uint64_t out = 7;
    CHECK(!ex_parse_u64("", 0, UINT64_MAX, &out) && out == 7);
    CHECK(!ex_parse_u64("12a", 3, UINT64_MAX, &out) && out == 7);
    CHECK(!ex_parse_u64("-1", 2, UINT64_MAX, &out));
    CHECK(!ex_parse_u64("18446744073709551616", 20, UINT64_MAX, &out)); /* 2^64 */
    CHECK(!ex_parse_u64("101", 3, 100, &out) && out == 7);
    CHECK(ex_parse_u64("100", 3, 100, &out) && out == 100);
    CHECK(ex_parse_u64("0042", 2, 100, &out) && out == 0);

    h3q_header h = ex_hdr(":status", "200");
    CHECK(h.name_len == 7 && h.value_len == 3 && memcmp(h.value, "200", 3) == 0);
    CHECK(ex_hdr_is(&h, ":status"));
    CHECK(!ex_hdr_is(&h, ":statu"));
    CHECK(!ex_hdr_is(&h, ":status "));

    if (failures) fprintf(stderr, "ex_h3_test: %d failure(s)\n", failures);
    else printf("ex_h3_test: all passed\n");
    return failures ? 1 : 0;
}
