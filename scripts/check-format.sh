#!/usr/bin/env bash
# Checks, without editing, that every tracked C++ file is formatted as
# .clang-format says. Prints the files that are not and exits 1 if any.
# `make format` applies the formatting. CLANG_FORMAT overrides the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
clang_format=${CLANG_FORMAT:-clang-format-16}
command -v "$clang_format" >/dev/null || { echo "check-format: $clang_format not found (scripts/install-deps.sh format)" >&2; exit 2; }

bad=()
while IFS= read -r -d '' file; do
  if ! "$clang_format" --dry-run --Werror "$file" >/dev/null 2>&1; then
    bad+=("$file")
  fi
done < <(git ls-files -z '*.cc' '*.h')

if [ ${#bad[@]} -gt 0 ]; then
  echo "check-format: ${#bad[@]} file(s) not formatted as .clang-format says (run \`make format\`):"
  printf '  %s\n' "${bad[@]}"
  exit 1
fi
echo "check-format: $(git ls-files '*.cc' '*.h' | wc -l) files formatted"
