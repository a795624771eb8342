# PyTorch files (torch.save's zip format): unit tests and the malformed-file catalogue, the interop
# check against the real PyTorch 1.13 both ways, and the zip and pickle fuzz targets' corpus replays.
# Included from tests/io/CMakeLists.txt.
target_sources(io_tests PRIVATE torch_test.cpp)

# The interop tool: loads torch.save'd files with load_torch, writes them back with save_torch and
# prints every value it read, for the Python script to check.
add_executable(io_torch_interop torch_interop.cpp)
target_link_libraries(io_torch_interop PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
add_test(NAME "io_torch_interop: torch 1.13 files both ways"
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/torch_interop.py
                 $<TARGET_FILE:io_torch_interop> ${CMAKE_CURRENT_BINARY_DIR}/torch_interop_work)
set_tests_properties("io_torch_interop: torch 1.13 files both ways" PROPERTIES TIMEOUT 300)

tapegrad_add_fuzz_target(zip corpus_zip)
tapegrad_add_fuzz_target(pickle corpus_pickle)
# A whole .pt file is a zip holding a pickle: the torch target replays the zip corpus.
tapegrad_add_fuzz_target(torch corpus_zip)
