# safetensors: unit tests and the malformed-file catalogue, the interop check against files written
# from the spec with NumPy/PyTorch, and the fuzz target's corpus replay.
target_sources(io_tests PRIVATE safetensors_test.cpp)

# The interop tool: loads a safetensors file as float or double and writes back what it read.
add_executable(io_safetensors_interop safetensors_interop.cpp)
target_link_libraries(io_safetensors_interop PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
add_test(NAME "io_safetensors_interop: numpy/torch files both ways"
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/safetensors_interop.py
                 $<TARGET_FILE:io_safetensors_interop> ${CMAKE_CURRENT_BINARY_DIR}/safetensors_interop_work)
set_tests_properties("io_safetensors_interop: numpy/torch files both ways" PROPERTIES TIMEOUT 300)

tapegrad_add_fuzz_target(safetensors corpus_safetensors)
