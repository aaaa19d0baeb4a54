// doctest, configured for a build without exceptions.
#ifndef DESCENT_TESTS_DOCTEST_CONFIG_H_
#define DESCENT_TESTS_DOCTEST_CONFIG_H_
#define DOCTEST_CONFIG_NO_EXCEPTIONS_BUT_WITH_ALL_ASSERTS
#include <doctest/doctest.h>
#endif  // DESCENT_TESTS_DOCTEST_CONFIG_H_
