#include "h3q.h"
#include "check.h"
#include "fake_transport.h"
int main(void) { CHECK(1); return CHECK_DONE("test_conn_misuse"); }
