# What `cmake --install build --prefix P` puts where, all in this one place:
#   P/bin/npuvp                 the simulator
#   P/lib/npuvp/npuvp_onnx.so   its ONNX importer, loaded when a network is ONNX
#   P/share/npuvp/configs       its shipped data: presets, memspecs, energy and
#                               area tables, network files, sweep files
#   P/include/npuvp/...         the headers, in the source tree's layout
#                               ("platform/run.h", "sw/driver/npu_driver.h", ...)
#   P/lib/libnpuvp_*.a          the static libraries
#   P/lib/cmake/npuvp           the CMake package: find_package(npuvp) gives
#                               npuvp::platform, everything a host program of
#                               one's own links (examples/, docs/firmware.md)
# An installed npuvp finds its data as <exe>/../share/npuvp
# (platform/config/data_root.h), so these two destinations move together.
include(CMakePackageConfigHelpers)

install(TARGETS npuvp RUNTIME DESTINATION bin)
# The ONNX importer, loaded by npuvp from <exe>/../lib/npuvp (sw/runtime/frontend/onnx_module.h).
install(TARGETS npuvp_onnx_module LIBRARY DESTINATION lib/npuvp)
install(DIRECTORY ${NPUVP_SOURCE_DIR}/configs DESTINATION share/npuvp)

# npuvp_platform and every library it links, exported as npuvp::<name
# without the npuvp_ prefix>: npuvp::platform, npuvp::npu, npuvp::driver, ...
set(NPUVP_EXPORTED_LIBRARIES
    platform noc_packet_log report config config_dram config_noc config_area
    npu noc sram dma pe_array dram cpu interconnect power common contract firmware
    driver apps frontend exec lowering reference quantizer quantization ir)
foreach(name ${NPUVP_EXPORTED_LIBRARIES})
  set_target_properties(npuvp_${name} PROPERTIES EXPORT_NAME ${name})
  list(APPEND npuvp_exported_targets npuvp_${name})
endforeach()
# A sanitized build's libraries call into the sanitizer runtimes: whatever
# links them must link those too.
if(NPUVP_SANITIZER_LINK_OPTIONS)
  target_link_options(npuvp_contract INTERFACE ${NPUVP_SANITIZER_LINK_OPTIONS})
endif()
install(TARGETS ${npuvp_exported_targets} EXPORT npuvpTargets ARCHIVE DESTINATION lib)
foreach(dir contract models firmware sw platform)
  install(DIRECTORY ${NPUVP_SOURCE_DIR}/${dir} DESTINATION include/npuvp FILES_MATCHING PATTERN "*.h")
endforeach()
install(EXPORT npuvpTargets NAMESPACE npuvp:: DESTINATION lib/cmake/npuvp)
configure_package_config_file(${NPUVP_SOURCE_DIR}/cmake/npuvpConfig.cmake.in
                              ${CMAKE_BINARY_DIR}/npuvpConfig.cmake INSTALL_DESTINATION lib/cmake/npuvp)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/npuvpConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/npuvpConfig.cmake ${CMAKE_BINARY_DIR}/npuvpConfigVersion.cmake
        DESTINATION lib/cmake/npuvp)
