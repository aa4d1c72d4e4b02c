/* Every export given NULL or invalid arguments returns its documented code and never
 * crashes. Grows with the API: each new export gets its misuse cases here. */
#include "h3q.h"

#include "check.h"

static void last_error_is_null_before_any_failure(void) {
    /* A fresh thread has no error; this test runs first on the main thread. */
    CHECK(h3q_last_error() == NULL);
}

static void result_str_accepts_any_int(void) {
    for (int32_t code = -100; code <= 100; code++) {
        CHECK(h3q_result_str(code) != NULL);
    }
}

int main(void) {
    RUN(last_error_is_null_before_any_failure);
    RUN(result_str_accepts_any_int);
    return CHECK_DONE("test_misuse");
}
