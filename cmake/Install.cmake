# Installs the libraries, the headers, the CMake package (find_package(h3q)), h3q.pc and
# the man page.
include(CMakePackageConfigHelpers)

set(H3Q_REAL_NAME "libh3q.so.${PROJECT_VERSION}")
set(H3Q_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/h3q")

install(FILES "${H3Q_SHARED_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RENAME "${H3Q_REAL_NAME}"
        PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                    WORLD_READ WORLD_EXECUTE)
# libh3q.so -> SONAME -> real name, made inside the (possibly DESTDIR-ed) install prefix.
install(CODE "
  set(_libdir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}\")
  execute_process(COMMAND \"${CMAKE_COMMAND}\" -E create_symlink
                  \"${H3Q_REAL_NAME}\" \"\${_libdir}/${H3Q_SONAME}\")
  execute_process(COMMAND \"${CMAKE_COMMAND}\" -E create_symlink
                  \"${H3Q_SONAME}\" \"\${_libdir}/libh3q.so\")
  message(STATUS \"Installing: \${_libdir}/${H3Q_SONAME} and libh3q.so (symlinks)\")
")
install(FILES "${H3Q_STATIC_LIB}" DESTINATION "${CMAKE_INSTALL_LIBDIR}")
# h3q.h and the header-only C++ layer over it: h3q.hpp and its parts in h3q/.
install(FILES "${H3Q_INCLUDE_DIR}/h3q.h" "${H3Q_INCLUDE_DIR}/h3q.hpp"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${H3Q_INCLUDE_DIR}/h3q" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        FILES_MATCHING PATTERN "*.hpp")
# man 3 h3q: the overview of the API.
install(FILES "${PROJECT_SOURCE_DIR}/docs/h3q.3" DESTINATION "${CMAKE_INSTALL_MANDIR}/man3")
# The valgrind suppressions for ring's AES-GCM false positives (see the file), for users
# running their own programs under valgrind: share/h3q/h3q.supp.
install(FILES "${PROJECT_SOURCE_DIR}/valgrind/h3q.supp" DESTINATION "${CMAKE_INSTALL_DATADIR}/h3q")

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/h3qConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/h3qConfig.cmake"
  INSTALL_DESTINATION "${H3Q_CMAKE_DIR}"
  PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/h3qConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/h3qConfig.cmake"
              "${PROJECT_BINARY_DIR}/h3qConfigVersion.cmake"
        DESTINATION "${H3Q_CMAKE_DIR}")

# The prefix as seen from the .pc file's own directory, so the installed tree is relocatable.
file(RELATIVE_PATH H3Q_PC_PREFIX_FROM_PCFILEDIR
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" H3Q_PC_PREFIX_FROM_PCFILEDIR "${H3Q_PC_PREFIX_FROM_PCFILEDIR}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/h3q.pc.in" "${PROJECT_BINARY_DIR}/h3q.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/h3q.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
