# Included from bench/CMakeLists.txt. The replay on its own, so that the
# packet-trace fuzzer links it without noc-bench's command line.
add_library(npuvp_noc_replay ${CMAKE_CURRENT_LIST_DIR}/noc_replay.cpp)
target_link_libraries(npuvp_noc_replay PUBLIC npuvp_noc npuvp_noc_packet_log nlohmann_json::nlohmann_json)
add_library(npuvp_noc_bench ${CMAKE_CURRENT_LIST_DIR}/noc_bench.cpp)
target_link_libraries(npuvp_noc_bench PUBLIC npuvp_noc_replay npuvp_config_noc npuvp_bench_options Boost::program_options)
