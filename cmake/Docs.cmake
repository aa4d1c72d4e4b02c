# The API reference (Doxygen HTML from include/h3q.h and the C++ layer) and the checks of
# the documentation:
#
#   h3q_docs         target, when Doxygen is found: build/docs/html/index.html (under the
#                    build tree), from docs/Doxyfile.in; any Doxygen warning fails it
#   docs_reference   CTest: the same Doxygen run, failing on any warning
#   docs_man_page    CTest: docs/h3q.3 formats without a groff warning, names only functions
#                    the headers declare, and carries the project's version
#
# Both tests report SKIPPED (exit 77) when their tool is missing; .ci/run installs doxygen
# and groff.

find_package(Doxygen)

set(H3Q_DOCS_OUTPUT_DIR "${PROJECT_BINARY_DIR}/docs")
if(DOXYGEN_FOUND)
  file(GLOB _h3q_cpp_headers CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/h3q/*.hpp")
  configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${H3Q_DOCS_OUTPUT_DIR}/Doxyfile" @ONLY)
  add_custom_target(h3q_docs
    COMMAND Doxygen::doxygen "${H3Q_DOCS_OUTPUT_DIR}/Doxyfile"
    DEPENDS "${PROJECT_SOURCE_DIR}/include/h3q.h" "${PROJECT_SOURCE_DIR}/include/h3q.hpp"
            ${_h3q_cpp_headers}
            "${PROJECT_SOURCE_DIR}/docs/doxygen-sections.awk"
    WORKING_DIRECTORY "${H3Q_DOCS_OUTPUT_DIR}"
    COMMENT "Doxygen: ${H3Q_DOCS_OUTPUT_DIR}/html/index.html"
    VERBATIM)
endif()

# Checks of documents, not of memory: not repeated in the valgrind build.
if(H3Q_BUILD_TESTS AND NOT H3Q_VALGRIND)
  if(DOXYGEN_FOUND)
    add_test(NAME docs_reference COMMAND Doxygen::doxygen "${H3Q_DOCS_OUTPUT_DIR}/Doxyfile"
             WORKING_DIRECTORY "${H3Q_DOCS_OUTPUT_DIR}")
  else()
    add_test(NAME docs_reference COMMAND sh -c
             "echo 'SKIPPED: doxygen not found (Debian: apt-get install doxygen)'; exit 77")
  endif()
  add_test(NAME docs_man_page
    COMMAND sh "${PROJECT_SOURCE_DIR}/tests/check_man_page.sh" "${PROJECT_SOURCE_DIR}/docs/h3q.3"
            "${PROJECT_VERSION}" "${PROJECT_SOURCE_DIR}/include/h3q.h"
            "${PROJECT_SOURCE_DIR}/include/h3q.hpp")
  set_tests_properties(docs_reference docs_man_page PROPERTIES SKIP_RETURN_CODE 77)
endif()
