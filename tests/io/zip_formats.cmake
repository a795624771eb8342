# NumPy .npy/.npz: unit tests on hand-made bytes, the interop script against the real NumPy, and the fuzz
# target replayed over its corpus. Included from tests/io/CMakeLists.txt.
tapegrad_add_test(io_npy_tests npy_test.cpp)

add_executable(io_npy_interop npy_interop.cpp)
target_link_libraries(io_npy_interop PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
# /usr/bin/python3: the Debian interpreter that has NumPy (the test fails, never skips, without it).
add_test(NAME "io_npy_interop: numpy"
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/numpy_interop.py $<TARGET_FILE:io_npy_interop>)

add_executable(io_npy_fuzz_replay fuzz_npy.cpp fuzz_replay_main.cpp)
target_link_libraries(io_npy_fuzz_replay PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
add_test(NAME "io_npy_fuzz_replay: corpus" COMMAND io_npy_fuzz_replay ${CMAKE_CURRENT_SOURCE_DIR}/corpus_npy)

if(TAPEGRAD_BUILD_FUZZERS)
  add_executable(fuzz_npy fuzz_npy.cpp)
  target_link_libraries(fuzz_npy PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
  target_compile_options(fuzz_npy PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
  target_link_options(fuzz_npy PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
