# Whether tapegrad's matrix products (Linear, matmul) go to a BLAS: TAPEGRAD_USE_BLAS is AUTO (the
# default: OpenBLAS when it is installed), ON (a BLAS is required, OpenBLAS preferred) or OFF (Eigen's
# own GEMM). Used by the build tree and by the installed tapegradConfig.cmake alike, so a consumer's
# choice is made on the consumer's machine: the installed package itself names no BLAS and no CPU.
# Sets TAPEGRAD_BLAS_ENABLED, and BLAS::BLAS when it is ON.
macro(tapegrad_find_blas mode)
  set(TAPEGRAD_BLAS_ENABLED OFF)
  string(TOUPPER "${mode}" _tapegrad_blas_mode)
  if(_tapegrad_blas_mode STREQUAL "AUTO" OR "${mode}")
    # OpenBLAS first: Debian's (like most distributions') is built with DYNAMIC_ARCH and picks its
    # kernels for the CPU it runs on, which is what makes a plain -O2 build fast everywhere.
    set(_tapegrad_saved_vendor "${BLA_VENDOR}")
    set(BLA_VENDOR OpenBLAS)
    find_package(BLAS QUIET)
    if(NOT BLAS_FOUND AND NOT _tapegrad_blas_mode STREQUAL "AUTO")
      unset(BLA_VENDOR)
      find_package(BLAS REQUIRED)
    endif()
    set(BLA_VENDOR "${_tapegrad_saved_vendor}")
    if(BLAS_FOUND)
      set(TAPEGRAD_BLAS_ENABLED ON)
    endif()
  endif()
endmacro()
