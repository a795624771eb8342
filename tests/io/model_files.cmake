# Model files across formats: checkpoints, optimiser and scheduler state, atomic writes, Module::save/load.
target_sources(io_tests PRIVATE checkpoint_test.cpp atomic_write_test.cpp module_files_test.cpp)

# Module-level round trip with the real PyTorch and NumPy (scripts/test installs python3-torch and
# python3-numpy; the test fails, never skips, without them).
add_executable(io_model_interop model_interop.cpp)
target_link_libraries(io_model_interop PRIVATE tapegrad::tapegrad tapegrad_dev_flags)
add_test(NAME "io_interop: models move between PyTorch, NumPy and tapegrad"
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python/model_interop.py $<TARGET_FILE:io_model_interop>
          ${CMAKE_CURRENT_BINARY_DIR}/model_interop)
set_tests_properties("io_interop: models move between PyTorch, NumPy and tapegrad" PROPERTIES
  PASS_REGULAR_EXPRESSION "6 passed, 0 failed" TIMEOUT 120)
