#!/bin/sh
# Checks h3q's man page (CTest docs_man_page):
#   1. groff formats it with every warning enabled (-ww) and prints none;
#   2. it renders with the sections a section-3 page has;
#   3. every h3q_* / H3Q_* name it mentions is declared by the headers (no stale names);
#   4. its .TH line carries the project's version;
#   5. man(1) reads it (man -l), when man is installed.
#
#   check_man_page.sh PAGE VERSION HEADER...
#
# Exits 77 (CTest: skipped) after a line "SKIPPED: ..." when groff is missing.
set -eu
page=$1
version=$2
shift 2

if ! command -v groff >/dev/null 2>&1; then
  echo "SKIPPED: groff not found (Debian: apt-get install groff-base)"
  exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }

warnings=$(groff -man -ww -z "$page" 2>&1)
[ -z "$warnings" ] || fail "groff warns about $page:
$warnings"
echo "ok: groff -man -ww prints no warning"

text=$(groff -man -Tutf8 -ww -P-cbou "$page" 2>&1)
for section in NAME SYNOPSIS DESCRIPTION "RETURN VALUE" FILES "SEE ALSO"; do
  printf '%s\n' "$text" | grep -q "^$section\$" || fail "no section $section in the rendered page"
done
echo "ok: renders with NAME, SYNOPSIS, DESCRIPTION, RETURN VALUE, FILES, SEE ALSO"

# Names in the page's source, with troff's escaped hyphens and underscores undone.
names=$(sed 's/\\(ul/_/g; s/\\-/-/g' "$page" | grep -o '[hH]3[qQ]_[A-Za-z0-9_]*' | sort -u)
count=0
for name in $names; do
  case $name in
  h3q_docs | h3q_) continue ;; # the CMake target of the HTML reference; h3q_..._free
  esac
  count=$((count + 1))
  grep -q "\\b$name\\b" "$@" || fail "$page names $name, which no header declares"
done
[ "$count" -gt 20 ] || fail "only $count h3q names found in $page"
echo "ok: the $count h3q names it mentions are all declared by the headers"

grep -q "^\.TH .*\"h3q $version\"" "$page" || fail ".TH does not say \"h3q $version\""
echo "ok: .TH carries h3q $version"

if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 MANPAGER=cat PAGER=cat man -l "$page" >/dev/null 2>&1 || fail "man -l $page failed"
  echo "ok: man -l reads it"
fi
