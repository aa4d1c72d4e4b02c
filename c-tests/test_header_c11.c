/* h3q.h compiles as strict C11 with -Wall -Wextra -Werror -pedantic, and every type it
 * declares is usable from C. */
#include "h3q.h"
#include "h3q.h" /* the include guard makes a second include harmless */

#include "check.h"

int main(void) {
    h3q_result r = H3Q_OK;
    CHECK_INT(r, 0);
    CHECK(h3q_result_str(r) != NULL);
    CHECK(h3q_version() != NULL);
    /* The library and this header agree on the size of the evolvable settings struct. */
    CHECK_INT(h3q_settings_size(), sizeof(h3q_settings));
    return CHECK_DONE("test_header_c11");
}
