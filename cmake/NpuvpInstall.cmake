# What `cmake --install build --prefix P` puts where, all in this one place:
#   P/bin/npuvp            the simulator
#   P/share/npuvp/configs  its shipped data: presets, memspecs, energy and area
#                          tables, network files, sweep files
# An installed npuvp finds its data as <exe>/../share/npuvp
# (platform/config/data_root.h), so these two destinations move together.
install(TARGETS npuvp RUNTIME DESTINATION bin)
install(DIRECTORY ${NPUVP_SOURCE_DIR}/configs DESTINATION share/npuvp)
