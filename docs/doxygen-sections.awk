# Doxygen input filter for include/h3q.h (docs/Doxyfile.in runs it). The header is generated
# by cbindgen and its section banners are plain comments; this turns them into Doxygen
# structure without changing the header:
#
#   the opening comment              -> the file's documentation (@file)
#   "Lifecycle and event loop"       -> the reference's main page (@mainpage)
#   each "/* ===... * N. Title" banner -> a group (@defgroup sectionN) holding everything up
#                                       to the next banner or the end of the extern "C" block
#   "e.g. " in comments              -> "e.g.&nbsp;", so that it does not end a brief
#
# Each input line gives one output line (but for the group's closing line at the end), so
# Doxygen's line numbers in warnings are those of h3q.h.

# "e.g." is not the end of a sentence: with JAVADOC_AUTOBRIEF it would cut the brief there.
/^ \*|^\/\*\*/ { gsub(/e\.g\. /, "e.g.\\&nbsp;"); sub(/e\.g\.$/, "e.g.\\&nbsp;") }

# A plain comment opening on its own line: the next line says what it is.
/^\/\*$/ && !comment && !banner {
    if ((getline following) <= 0) { print; next }
    if (following ~ /^ \* h3q: /) {
        print "/** @file h3q.h"
        print following
    } else if (following ~ /^ \* Lifecycle and event loop$/) {
        print "/** @mainpage h3q API reference"
        print " * @section lifecycle Lifecycle and event loop"
        lifecycle = 1
    } else {
        print
        print following
    }
    comment = following !~ /\*\/$/
    next
}
comment && lifecycle && /^ \* =+$/ { print " *"; next }
comment && /\*\/$/ { comment = 0; lifecycle = 0; print; next }
comment { print; next }

# A section banner.
/^\/\* =+$/ {
    print group_open ? "/** @} */" : ""
    banner = 1
    next
}
banner && /^ \* [0-9]+\. / {
    number = $2
    sub(/\.$/, "", number)
    title = $0
    sub(/^ \* /, "", title)
    print "/** @defgroup section" number " " title
    next
}
banner && /^ \* =+ \*\/$/ { print " * @{ */"; banner = 0; group_open = 1; next }
banner { print; next }

# The end of the extern "C" block closes the last section.
/^#ifdef __cplusplus$/ && group_open { print "/** @} */"; group_open = 0 }

{ print }
