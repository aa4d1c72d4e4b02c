// h3q.h compiles as C++17 with -Wall -Wextra -Werror -pedantic and links with C linkage.
#include "h3q.h"

#include <cstdio>
#include <cstring>

int main() {
    h3q_result r = H3Q_ERR_NULL;
    const char *text = h3q_result_str(r);
    bool ok = text != nullptr && std::strncmp(text, "H3Q_ERR_NULL", 12) == 0 &&
              std::strcmp(h3q_version(), H3Q_VERSION_STRING) == 0;
    std::printf("test_header_cpp: %d passed, %d failed\n", ok ? 1 : 0, ok ? 0 : 1);
    return ok ? 0 : 1;
}
