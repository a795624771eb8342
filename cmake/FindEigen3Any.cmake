# Finds Eigen 3.3+ including 5.x. A versioned request such as find_package(Eigen3 3.4) is rejected
# by Eigen 5's version file, so ask for any version and check the lower bound ourselves.
if(NOT TARGET Eigen3::Eigen)
  find_package(Eigen3 REQUIRED NO_MODULE)
endif()
if(DEFINED Eigen3_VERSION AND Eigen3_VERSION VERSION_LESS 3.3)
  message(FATAL_ERROR "tapegrad needs Eigen 3.3 or newer, found ${Eigen3_VERSION}")
endif()
