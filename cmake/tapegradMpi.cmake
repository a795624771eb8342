# tapegrad_find_mpi(<AUTO|ON|OFF>): sets TAPEGRAD_MPI_ENABLED and, when enabled, provides MPI::MPI_CXX.
# Used by the build tree and by the installed package config (on the consumer's machine).
macro(tapegrad_find_mpi mode)
  set(TAPEGRAD_MPI_ENABLED OFF)
  if("${mode}" STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
    set(TAPEGRAD_MPI_ENABLED ON)
  elseif(NOT "${mode}" STREQUAL "OFF")
    find_package(MPI QUIET COMPONENTS CXX)
    if(MPI_CXX_FOUND)
      set(TAPEGRAD_MPI_ENABLED ON)
    endif()
  endif()
endmacro()
