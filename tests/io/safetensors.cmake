# safetensors: unit tests and the malformed-file catalogue, the interop check against files written
# from the spec with NumPy/PyTorch, and the fuzz target's corpus replay.
tapegrad_add_test(io_safetensors_tests safetensors_test.cpp)

# The interop tool: loads a safetensors file as float or double and writes back what it read.
add_executable(io_safetensors_interop safetensors_interop.cpp)
target_link_libraries(io_safetensors_interop PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
add_test(NAME "io_safetensors_interop: numpy/torch files both ways"
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/safetensors_interop.py
                 $<TARGET_FILE:io_safetensors_interop> ${CMAKE_CURRENT_BINARY_DIR}/safetensors_interop_work)
set_tests_properties("io_safetensors_interop: numpy/torch files both ways" PROPERTIES TIMEOUT 300)

add_executable(io_fuzz_safetensors_replay fuzz_safetensors.cpp fuzz_replay_main.cpp)
target_link_libraries(io_fuzz_safetensors_replay PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
add_test(NAME "io_fuzz_safetensors_replay: corpus" COMMAND io_fuzz_safetensors_replay
         ${CMAKE_CURRENT_SOURCE_DIR}/corpus_safetensors)

if(TAPEGRAD_BUILD_FUZZERS)
  add_executable(fuzz_safetensors fuzz_safetensors.cpp)
  target_link_libraries(fuzz_safetensors PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
  target_compile_options(fuzz_safetensors PRIVATE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all)
  target_link_options(fuzz_safetensors PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
