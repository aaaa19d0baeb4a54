// The doctest runner of unit_tests.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "tests/doctest_config.h"
