/*
 * The test of ex_sha256 (CTest examples_sha256): the example vectors of FIPS 180-4 (NIST's
 * "SHA256.pdf" examples and the long-message vector), the short messages also fed in
 * pieces of every size from 1 to 130 bytes (the million 'a' in pieces of a few sizes), and
 * lengths around the padding boundaries (55, 56, 63, 64, 65 bytes) hashed whole and byte
 * by byte. Exit status 0 when all pass.
 */
#include "ex_sha256.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void digest_hex(const void *data, size_t len, size_t piece, char out[EX_SHA256_HEX_LEN]) {
    ex_sha256 h;
    uint8_t d[EX_SHA256_LEN];
    const unsigned char *p = data;
    ex_sha256_init(&h);
    if (piece == 0) {
        ex_sha256_update(&h, p, len);
    } else {
        for (size_t off = 0; off < len; off += piece)
            ex_sha256_update(&h, p + off, len - off < piece ? len - off : piece);
    }
    ex_sha256_final(&h, d);
    ex_sha256_hex(d, out);
}

static void expect(const char *name, const void *data, size_t len, const char *want) {
    static const size_t long_pieces[] = {0, 1, 55, 63, 64, 65, 1000, 65536};
    char got[EX_SHA256_HEX_LEN];
    bool is_long = len > 1000;
    size_t tries = is_long ? sizeof long_pieces / sizeof long_pieces[0] : 131;
    for (size_t t = 0; t < tries; t++) {
        size_t piece = is_long ? long_pieces[t] : t;
        digest_hex(data, len, piece, got);
        if (strcmp(got, want) != 0) {
            printf("FAIL %s (pieces of %zu): got %s, want %s\n", name, piece, got, want);
            failures++;
            return;
        }
    }
    printf("ok %s\n", name);
}

int main(void) {
    expect("\"\"", "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect("\"abc\"", "abc", 3,
           "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    expect("448-bit message", m448, strlen(m448),
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    expect("896-bit message", m896, strlen(m896),
           "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    size_t million = 1000000;
    char *a = malloc(million);
    if (!a) return 1;
    memset(a, 'a', million);
    expect("one million 'a'", a, million,
           "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* Around the padding boundaries: whole and byte by byte must agree. */
    static const size_t lens[] = {55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char whole[EX_SHA256_HEX_LEN], bytes[EX_SHA256_HEX_LEN];
        digest_hex(a, lens[i], 0, whole);
        digest_hex(a, lens[i], 1, bytes);
        if (strcmp(whole, bytes) != 0) {
            printf("FAIL %zu bytes: whole %s, byte by byte %s\n", lens[i], whole, bytes);
            failures++;
        }
    }
    /* 56 'a': a known value (the padding needs a second block). */
    expect("56 'a'", a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    free(a);
    printf("%s\n", failures ? "FAILED" : "PASS");
    return failures ? 1 : 0;
}
