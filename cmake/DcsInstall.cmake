# Install rules: headers, the library, an exported CMake package (find_package(libdcs CONFIG))
# and a pkg-config file.

install(TARGETS dcs EXPORT libdcsTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/dcs DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
install(FILES ${PROJECT_BINARY_DIR}/generated/include/dcs/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dcs)

set(DCS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/libdcs)
install(EXPORT libdcsTargets NAMESPACE dcs:: DESTINATION ${DCS_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/libdcsConfig.cmake.in
  ${PROJECT_BINARY_DIR}/libdcsConfig.cmake INSTALL_DESTINATION ${DCS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/libdcsConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/libdcsConfig.cmake ${PROJECT_BINARY_DIR}/libdcsConfigVersion.cmake
  DESTINATION ${DCS_CMAKE_DIR})

configure_file(${PROJECT_SOURCE_DIR}/cmake/libdcs.pc.in ${PROJECT_BINARY_DIR}/libdcs.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/libdcs.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
