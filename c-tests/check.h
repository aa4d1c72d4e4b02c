/*
 * check.h: the assertion helper of h3q's C tests (no framework, no dependencies).
 *
 * CHECK(cond) and the CHECK_* variants record a failure with file and line and go on;
 * CHECK_DONE() prints "<test>: N passed, N failed" and returns the exit status.
 * Tests are plain functions run by RUN(fn) from main(). The counters belong to the whole
 * test program (check.c, which h3q_c_test() links into every test, defines them), so
 * helper files such as fake_pair.c may CHECK too.
 */
#ifndef H3Q_CHECK_H
#define H3Q_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

extern unsigned check_passed_;
extern unsigned check_failed_;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            check_passed_++;                                                          \
        } else {                                                                      \
            check_failed_++;                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_INT(actual, expected)                                                   \
    do {                                                                              \
        long long check_a_ = (long long)(actual);                                     \
        long long check_e_ = (long long)(expected);                                   \
        if (check_a_ == check_e_) {                                                   \
            check_passed_++;                                                          \
        } else {                                                                      \
            check_failed_++;                                                          \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,     \
                    __LINE__, #actual, check_a_, #expected, check_e_);                \
        }                                                                             \
    } while (0)

#define CHECK_STR(actual, expected)                                                   \
    do {                                                                              \
        const char *check_a_ = (actual);                                              \
        const char *check_e_ = (expected);                                            \
        if (check_a_ != NULL && check_e_ != NULL && strcmp(check_a_, check_e_) == 0) { \
            check_passed_++;                                                          \
        } else {                                                                      \
            check_failed_++;                                                          \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__,       \
                    __LINE__, #actual, check_a_ ? check_a_ : "(null)",                \
                    check_e_ ? check_e_ : "(null)");                                  \
        }                                                                             \
    } while (0)

/* The string starts with the given prefix. */
#define CHECK_PREFIX(actual, prefix)                                                  \
    do {                                                                              \
        const char *check_a_ = (actual);                                              \
        const char *check_p_ = (prefix);                                              \
        if (check_a_ != NULL && strncmp(check_a_, check_p_, strlen(check_p_)) == 0) { \
            check_passed_++;                                                          \
        } else {                                                                      \
            check_failed_++;                                                          \
            fprintf(stderr, "%s:%d: %s == \"%s\", expected prefix \"%s\"\n",          \
                    __FILE__, __LINE__, #actual, check_a_ ? check_a_ : "(null)",      \
                    check_p_);                                                        \
        }                                                                             \
    } while (0)

#define RUN(test_fn)                                                                  \
    do {                                                                              \
        unsigned check_before_ = check_failed_;                                       \
        test_fn();                                                                    \
        fprintf(stderr, "%s %s\n", check_failed_ == check_before_ ? "ok  " : "FAIL",  \
                #test_fn);                                                            \
    } while (0)

/* Prints the summary line and gives main()'s return value. */
#define CHECK_DONE(test_name)                                                         \
    (printf("%s: %u passed, %u failed\n", (test_name), check_passed_, check_failed_), \
     (check_failed_ == 0 && check_passed_ > 0) ? 0 : 1)

#endif /* H3Q_CHECK_H */
