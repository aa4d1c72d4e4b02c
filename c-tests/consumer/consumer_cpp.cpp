// A minimal user of the installed C++ layer: h3q.hpp found beside h3q.h, a client endpoint
// made and freed through it, and an error thrown as h3q::error.
#include <h3q.hpp>

#include <cstdio>
#include <cstring>

int main() {
    h3q::endpoint client(h3q::config::client().set_verify_peer(false));
    bool refused = false;
    try {
        h3q::config::client().set_max_streams(1, 1);
    } catch (const h3q::error &e) {
        refused = e.code() == H3Q_ERR_INVALID_ARGUMENT;
    }
    std::printf("h3q C++ consumer: library %s, refusal %s\n", h3q::version(),
                refused ? "thrown" : "missing");
    return refused && std::strcmp(h3q::version(), H3Q_VERSION_STRING) == 0 ? 0 : 1;
}
