#!/bin/sh
# Compiles every ```cpp block of README.md's "Use it in your code" section as it stands (each a
# translation unit of its own), so the snippets users copy cannot drift from the API.
# usage: readme_snippets.sh COMPILER INCLUDE_DIR README
set -eu
compiler=$1 include=$2 readme=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
awk -v dir="$dir" '
  /^## / { in_section = ($0 == "## Use it in your code") }
  in_section && /^```cpp$/ { n++; file = dir "/snippet" n ".cc"; inside = 1; next }
  inside && /^```$/ { inside = 0; close(file); next }
  inside { print > file }
' "$readme"
count=0
for snippet in "$dir"/snippet*.cc; do
  [ -e "$snippet" ] || break
  count=$((count + 1))
  if ! "$compiler" -std=c++17 -fsyntax-only -Wall -Werror -I"$include" "$snippet"; then
    echo "README.md: snippet $count of 'Use it in your code' does not compile:" >&2
    cat -n "$snippet" >&2
    exit 1
  fi
done
[ "$count" -ge 2 ] || { echo "README.md: expected the section's snippets, found $count" >&2; exit 1; }
echo "$count snippets compile"
