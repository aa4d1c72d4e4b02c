/*
 * ex_sha256: SHA-256 (FIPS 180-4), for checking response bodies without storing them
 * (h3q-client --sha256). Small and portable rather than fast: about as fast as the
 * loopback transfers it checks, not a replacement for a crypto library.
 *
 *   ex_sha256 h;
 *   ex_sha256_init(&h);
 *   ex_sha256_update(&h, data, len);      (any number of times, any lengths)
 *   ex_sha256_final(&h, digest);          (32 bytes; ex_sha256_hex() makes 64 hex digits)
 *
 * Tested against the FIPS 180-4 example vectors by examples/common/ex_sha256_test.c
 * (CTest examples_sha256). Part of examples/common (the h3q_example_common library).
 */
#ifndef H3Q_EXAMPLE_SHA256_H
#define H3Q_EXAMPLE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define EX_SHA256_LEN 32
#define EX_SHA256_HEX_LEN 65 /* 64 hex digits and the NUL */

typedef struct ex_sha256 {
    uint32_t state[8];
    uint64_t total;          /* bytes hashed so far */
    uint8_t block[64];       /* a block not yet complete */
    size_t used;             /* bytes in block */
} ex_sha256;

void ex_sha256_init(ex_sha256 *h);
void ex_sha256_update(ex_sha256 *h, const void *data, size_t len);
/* Writes the digest of everything given since init; `h` must be initialised again to be
 * used once more. */
void ex_sha256_final(ex_sha256 *h, uint8_t digest[EX_SHA256_LEN]);
/* The digest as lower-case hex, NUL-terminated. */
void ex_sha256_hex(const uint8_t digest[EX_SHA256_LEN], char out[EX_SHA256_HEX_LEN]);

#endif
