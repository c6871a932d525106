#!/usr/bin/env bash
# The project's size limits for everything but tests: no source file over 700
# lines, no function over 120 (universal-ctags finds the functions). Prints
# each offender and fails when there is one.
set -euo pipefail
root=$1
cd "$root"
command -v ctags >/dev/null || { echo "ctags is not installed (apt-get install universal-ctags)"; exit 1; }
dirs=(models contract firmware sw platform bench examples)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git ls-files "${dirs[@]}" | grep -E '\.(cpp|h)$')
else
  mapfile -t files < <(find "${dirs[@]}" -name '*.cpp' -o -name '*.h')
fi
long_files=$(wc -l "${files[@]}" | awk '$2 != "total" && $1 > 700 {print "  " $2 ": " $1 " lines"}')
long_functions=$(ctags --languages=C++ --kinds-C++=f --fields=+ne -x --_xformat='%{end} %{line} %N %F' "${files[@]}" |
                 awk '$1 - $2 + 1 > 120 {print "  " $4 ": " $3 " (" $1 - $2 + 1 " lines)"}')
status=0
[ -z "$long_files" ] || { echo "files over 700 lines:"; echo "$long_files"; status=1; }
[ -z "$long_functions" ] || { echo "functions over 120 lines:"; echo "$long_functions"; status=1; }
[ $status -ne 0 ] || echo "${#files[@]} sources within the limits"
exit $status
