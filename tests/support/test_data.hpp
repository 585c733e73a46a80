// test_data.hpp - what a test does when the data it needs (a speech or
// music corpus) is not installed.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace testsig {

// CI (build.sh test) installs every corpus and sets
// PROSODY_REQUIRE_TEST_DATA=1: there, missing data is a failure, not a skip.
inline bool test_data_required() {
  const char* v = std::getenv("PROSODY_REQUIRE_TEST_DATA");
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace testsig

// Skips the test for want of data, or fails it where the data is required.
#define PROSODY_SKIP_WITHOUT_DATA(why)              \
  do {                                              \
    if (testsig::test_data_required()) {            \
      GTEST_FAIL() << "test data missing: " << why; \
    } else {                                        \
      GTEST_SKIP() << why;                          \
    }                                               \
  } while (0)
