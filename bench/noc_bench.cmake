# Included from bench/CMakeLists.txt.
add_library(npuvp_noc_bench ${CMAKE_CURRENT_LIST_DIR}/noc_bench.cpp ${CMAKE_CURRENT_LIST_DIR}/noc_replay.cpp)
target_link_libraries(npuvp_noc_bench PUBLIC npuvp_noc npuvp_noc_packet_log npuvp_config_noc npuvp_bench_options Boost::program_options)
