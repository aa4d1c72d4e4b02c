# Builds the h3q crate with cargo and exposes the results as imported targets:
#   h3q::h3q         the shared library (libh3q.so, SONAME libh3q.so.<major>.<minor>)
#   h3q::h3q_static  the static library (libh3q.a) with its system link dependencies
#
# The cargo profile follows CMAKE_BUILD_TYPE: Debug -> dev, anything else -> release.
# H3Q_CARGO_TARGET_DIR lets several builds share one cargo target directory.

find_program(CARGO_EXECUTABLE cargo HINTS "$ENV{HOME}/.cargo/bin" REQUIRED)
find_package(Threads REQUIRED)

set(H3Q_CARGO_TARGET_DIR "${CMAKE_BINARY_DIR}/cargo" CACHE PATH
    "Cargo target directory for the h3q crate")

if(CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(_h3q_cargo_profile dev)
  set(_h3q_cargo_subdir debug)
else()
  set(_h3q_cargo_profile release)
  set(_h3q_cargo_subdir release)
endif()

# The ABI series: 0.x releases break at the minor version, later ones at the major.
# build.rs sets the same SONAME on the cdylib.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(H3Q_SONAME "libh3q.so.0.${PROJECT_VERSION_MINOR}")
else()
  set(H3Q_SONAME "libh3q.so.${PROJECT_VERSION_MAJOR}")
endif()

set(H3Q_CARGO_OUT_DIR "${H3Q_CARGO_TARGET_DIR}/${_h3q_cargo_subdir}")
set(H3Q_SHARED_LIB "${H3Q_CARGO_OUT_DIR}/libh3q.so")
set(H3Q_STATIC_LIB "${H3Q_CARGO_OUT_DIR}/libh3q.a")
set(H3Q_INCLUDE_DIR "${PROJECT_SOURCE_DIR}/include")

file(GLOB_RECURSE _h3q_rust_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/src/*.rs")

add_custom_command(
  OUTPUT "${H3Q_SHARED_LIB}" "${H3Q_STATIC_LIB}"
  COMMAND "${CMAKE_COMMAND}" -E env "CARGO_TARGET_DIR=${H3Q_CARGO_TARGET_DIR}"
          "${CARGO_EXECUTABLE}" build --lib --locked --profile ${_h3q_cargo_profile}
          --manifest-path "${PROJECT_SOURCE_DIR}/Cargo.toml"
  DEPENDS ${_h3q_rust_sources}
          "${PROJECT_SOURCE_DIR}/Cargo.toml" "${PROJECT_SOURCE_DIR}/Cargo.lock"
          "${PROJECT_SOURCE_DIR}/build.rs" "${PROJECT_SOURCE_DIR}/cbindgen.toml"
          "${H3Q_INCLUDE_DIR}/h3q.h"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  COMMENT "cargo build h3q (${_h3q_cargo_profile})"
  USES_TERMINAL
  VERBATIM)
# The SONAME link programs load the library by: a step of its own, so that it is made even
# when the library was already built by a plain `cargo build` in the same target directory.
add_custom_command(
  OUTPUT "${H3Q_CARGO_OUT_DIR}/${H3Q_SONAME}"
  COMMAND "${CMAKE_COMMAND}" -E create_symlink libh3q.so "${H3Q_CARGO_OUT_DIR}/${H3Q_SONAME}"
  DEPENDS "${H3Q_SHARED_LIB}"
  VERBATIM)
add_custom_target(h3q_cargo ALL
  DEPENDS "${H3Q_SHARED_LIB}" "${H3Q_STATIC_LIB}" "${H3Q_CARGO_OUT_DIR}/${H3Q_SONAME}")

# Libraries a Rust staticlib needs from the system (`--print native-static-libs`).
set(H3Q_STATIC_DEPS Threads::Threads ${CMAKE_DL_LIBS} gcc_s util rt m)

add_library(h3q SHARED IMPORTED GLOBAL)
set_target_properties(h3q PROPERTIES
  IMPORTED_LOCATION "${H3Q_SHARED_LIB}"
  IMPORTED_SONAME "${H3Q_SONAME}"
  INTERFACE_INCLUDE_DIRECTORIES "${H3Q_INCLUDE_DIR}")
add_dependencies(h3q h3q_cargo)
add_library(h3q::h3q ALIAS h3q)

add_library(h3q_static STATIC IMPORTED GLOBAL)
set_target_properties(h3q_static PROPERTIES
  IMPORTED_LOCATION "${H3Q_STATIC_LIB}"
  INTERFACE_INCLUDE_DIRECTORIES "${H3Q_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${H3Q_STATIC_DEPS}")
add_dependencies(h3q_static h3q_cargo)
add_library(h3q::h3q_static ALIAS h3q_static)
