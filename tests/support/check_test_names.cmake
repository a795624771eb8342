# Fails if a TEST_CASE name contains ';' (see tests/CMakeLists.txt). file(STRINGS) would split at
# the ';' itself, so the sources are read whole.
file(GLOB_RECURSE sources ${TEST_ROOT}/*.cpp)
set(bad "")
foreach(f IN LISTS sources)
  file(READ ${f} text)
  string(REGEX MATCHALL "TEST_CASE\\(\"[^\"\n]*;[^\"\n]*\"" hits "${text}")
  if(hits)
    string(APPEND bad "${f}\n")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "TEST_CASE names containing ';', which catch_discover_tests cannot register:\n${bad}")
endif()
