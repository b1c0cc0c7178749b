#!/usr/bin/env bash
# Prints the repository's modules, one directory a line relative to the
# repository root ("." first): the modules go.work uses, which is what
# `go test work` tests. Fails when go.work and the go.mod files disagree, so
# that no module escapes CI, and when their toolchain lines differ: go.work's
# picks the Go release in workspace mode, a go.mod's with GOWORK=off.
# Run from anywhere: bash .ci/modules.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

used=$(go work edit -json | sed -n 's/^[[:space:]]*"DiskPath": "\(.*\)"$/\1/p' | sed 's|^\./||; s|^$|.|' | LC_ALL=C sort)
found=$(git ls-files --cached --others --exclude-standard -- 'go.mod' '*/go.mod' | xargs -n1 dirname | LC_ALL=C sort)
if [ "$used" != "$found" ]; then
  echo "modules: go.work does not use exactly the directories holding a go.mod:" >&2
  diff <(echo "$used") <(echo "$found") | sed -n 's/^< /  in go.work only: /p; s/^> /  go.mod not in go.work: /p' >&2
  exit 1
fi

toolchains=$(for f in go.work $(sed 's|$|/go.mod|' <<<"$found"); do
  printf '%s: %s\n' "$f" "$(sed -n 's/^toolchain //p' "$f")"
done)
if [ "$(cut -d' ' -f2- <<<"$toolchains" | sort -u | wc -l)" != 1 ]; then
  echo "modules: the toolchain lines differ (bump them together):" >&2
  echo "$toolchains" >&2
  exit 1
fi

echo "$found"
