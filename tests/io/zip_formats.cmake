# NumPy .npy/.npz: unit tests on hand-made bytes, the interop script against the real NumPy, and the fuzz
# target replayed over its corpus. Included from tests/io/CMakeLists.txt.
target_sources(io_tests PRIVATE npy_test.cpp)

add_executable(io_npy_interop npy_interop.cpp)
target_link_libraries(io_npy_interop PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
# /usr/bin/python3: the Debian interpreter that has NumPy (the test fails, never skips, without it).
add_test(NAME "io_npy_interop: numpy"
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/numpy_interop.py $<TARGET_FILE:io_npy_interop>)

tapegrad_add_fuzz_target(npy corpus_npy)
