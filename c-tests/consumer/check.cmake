# Run by CTest (cmake -P): install h3q into a scratch prefix, then build and run a consumer
# program against it twice: through find_package(h3q) (shared and static, and a C++ program
# using the installed h3q.hpp) and through `pkg-config --cflags --libs h3q`.
#
# Then, when EXAMPLES_SMOKE names tests/examples_smoke.sh, runs it on the *installed*
# h3q-server and h3q-client, with LD_LIBRARY_PATH unset: they must find the installed
# library through their RPATH, from wherever the prefix is.
#
# Inputs: H3Q_BUILD_DIR, CONSUMER_SOURCE_DIR, WORK_DIR, C_COMPILER, CMAKE_INSTALL_LIBDIR,
# CMAKE_INSTALL_BINDIR, CMAKE_INSTALL_INCLUDEDIR, CMAKE_INSTALL_MANDIR, EXAMPLES_SMOKE (may
# be empty).

function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${what}: ok ${out}")
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

run_step("install h3q into ${prefix}"
  "${CMAKE_COMMAND}" --install "${H3Q_BUILD_DIR}" --prefix "${prefix}")
foreach(installed "${CMAKE_INSTALL_INCLUDEDIR}/h3q.h" "${CMAKE_INSTALL_INCLUDEDIR}/h3q.hpp"
                  "${CMAKE_INSTALL_INCLUDEDIR}/h3q/core.hpp" "${CMAKE_INSTALL_MANDIR}/man3/h3q.3")
  if(NOT EXISTS "${prefix}/${installed}")
    message(FATAL_ERROR "the install lacks ${installed}")
  endif()
endforeach()

# 1. find_package(h3q)
run_step("configure consumer with find_package"
  "${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/cmake-build"
  "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_C_COMPILER=${C_COMPILER}")
run_step("build consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/cmake-build")
run_step("run find_package consumer (shared)" "${WORK_DIR}/cmake-build/consumer_shared")
run_step("run find_package consumer (static)" "${WORK_DIR}/cmake-build/consumer_static")
run_step("run find_package consumer (C++, h3q.hpp)" "${WORK_DIR}/cmake-build/consumer_cpp")

# 2. the installed example programs, against each other
if(EXAMPLES_SMOKE)
  unset(ENV{LD_LIBRARY_PATH})
  run_step("installed h3q-server and h3q-client fetch from each other"
    sh "${EXAMPLES_SMOKE}" "${prefix}/${CMAKE_INSTALL_BINDIR}/h3q-server"
       "${prefix}/${CMAKE_INSTALL_BINDIR}/h3q-client" "${WORK_DIR}/examples-smoke")
endif()

# 3. pkg-config
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${prefix}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG_EXECUTABLE}" --cflags --libs h3q
                RESULT_VARIABLE rc OUTPUT_VARIABLE flags OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs h3q failed (${rc})")
endif()
message(STATUS "pkg-config --cflags --libs h3q: ${flags}")
separate_arguments(flags UNIX_COMMAND "${flags}")
run_step("compile consumer with pkg-config flags"
  "${C_COMPILER}" -std=c11 -Wall -Wextra -Werror -pedantic
  "${CONSUMER_SOURCE_DIR}/consumer.c" ${flags} -o "${WORK_DIR}/consumer_pkgconfig")
set(ENV{LD_LIBRARY_PATH} "${prefix}/${CMAKE_INSTALL_LIBDIR}")
run_step("run pkg-config consumer" "${WORK_DIR}/consumer_pkgconfig")
