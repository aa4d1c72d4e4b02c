/* check.c: the CHECK counters of one test program (see check.h). */
#include "check.h"

unsigned check_passed_;
unsigned check_failed_;
