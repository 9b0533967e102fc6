# OTP's erl_interface (ei) as the imported target cppnode_ei, for the tests that cross-check
# against it and the bench's plain ei node. Found by glob (the newest installed), so no OTP
# version is written here.
if(TARGET cppnode_ei)
  return()
endif()
file(GLOB ei_dirs /usr/lib/erlang/lib/erl_interface-*)
if(NOT ei_dirs)
  message(FATAL_ERROR "erl_interface not found under /usr/lib/erlang/lib (install erlang-dev)")
endif()
list(SORT ei_dirs COMPARE NATURAL ORDER DESCENDING)
list(GET ei_dirs 0 ei_dir)
find_library(CPPNODE_EI_LIBRARY ei PATHS ${ei_dir}/lib NO_DEFAULT_PATH REQUIRED)
add_library(cppnode_ei STATIC IMPORTED GLOBAL)
set_target_properties(cppnode_ei PROPERTIES
  IMPORTED_LOCATION ${CPPNODE_EI_LIBRARY}
  INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${ei_dir}/include
  INTERFACE_INCLUDE_DIRECTORIES ${ei_dir}/include
  # libei.a is the thread-safe build: erl_errno is a per-thread slot only when _REENTRANT is
  # defined; without it ei.h names a global the library does not have.
  INTERFACE_COMPILE_DEFINITIONS _REENTRANT
  INTERFACE_LINK_LIBRARIES Threads::Threads)
