/* A minimal h3q user: prints the library version and checks it against the header. */
#include <h3q.h>

#include <stdio.h>
#include <string.h>

int main(void) {
    const char *version = h3q_version();
    printf("h3q consumer: library %s, header %s\n", version, H3Q_VERSION_STRING);
    return strcmp(version, H3Q_VERSION_STRING) == 0 ? 0 : 1;
}
