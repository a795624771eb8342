# cmake --install: headers, the exported target, a config + version file, and a pkg-config file.
include(CMakePackageConfigHelpers)

set(TAPEGRAD_CONFIG_DIR ${CMAKE_INSTALL_DATADIR}/cmake/tapegrad)

install(TARGETS tapegrad EXPORT tapegradTargets)
if(TAPEGRAD_MPI_ENABLED)
  install(TARGETS tapegrad_mpi EXPORT tapegradTargets)
endif()
install(DIRECTORY include/tapegrad DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT tapegradTargets NAMESPACE tapegrad:: DESTINATION ${TAPEGRAD_CONFIG_DIR})

configure_package_config_file(cmake/tapegradConfig.cmake.in
  ${PROJECT_BINARY_DIR}/tapegradConfig.cmake
  INSTALL_DESTINATION ${TAPEGRAD_CONFIG_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tapegradConfigVersion.cmake
  COMPATIBILITY SameMajorVersion ARCH_INDEPENDENT)
install(FILES
  ${PROJECT_BINARY_DIR}/tapegradConfig.cmake
  ${PROJECT_BINARY_DIR}/tapegradConfigVersion.cmake
  cmake/FindEigen3Any.cmake
  cmake/tapegradBlas.cmake
  cmake/tapegradMpi.cmake
  DESTINATION ${TAPEGRAD_CONFIG_DIR})

configure_file(cmake/tapegrad.pc.in ${PROJECT_BINARY_DIR}/tapegrad.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tapegrad.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)
install(FILES LICENSE README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/tapegrad)
