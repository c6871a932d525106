# Test helpers shared by every test folder.
#
# SystemC elaborates once per process, so every simulating test must run in a
# process of its own: gtest_discover_tests makes one ctest entry per TEST(), and
# each entry starts the binary with a --gtest_filter for that one test.
include(GoogleTest)

# Runs under test keep the prepared-network cache in the build tree, never in
# the user's home (npuvp run's default cache is $XDG_CACHE_HOME/npuvp).
set(NPUVP_TEST_ENVIRONMENT "XDG_CACHE_HOME=${CMAKE_BINARY_DIR}/test-cache")

# npuvp_add_test(NAME name SOURCES ... LIBS ... [TIMEOUT s])
#   A GoogleTest binary whose main is tests/support/sc_gtest_main.cpp (an
#   sc_main that runs RUN_ALL_TESTS with SystemC reports turned into failures).
function(npuvp_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE npuvp_test_support ${T_LIBS})
  gtest_discover_tests(${T_NAME}
    WORKING_DIRECTORY ${NPUVP_SOURCE_DIR}
    PROPERTIES TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${NPUVP_TEST_ENVIRONMENT}"
    DISCOVERY_TIMEOUT 60)
endfunction()
