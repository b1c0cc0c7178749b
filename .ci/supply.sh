#!/usr/bin/env bash
# Supply-chain checks for each of the repository's modules (the ones go.work
# uses, as .ci/modules.sh lists them; or the module directories given as
# arguments), each module on its own (GOWORK=off), as a project that
# requires it resolves it:
#   1. go mod verify: the module cache holds exactly what go.sum records;
#   2. go mod tidy -diff: go.mod and go.sum need no change;
#   3. govulncheck (pinned) against a vulnerability database built offline
#      from the golang.org/x/vulndb module (pinned). vuln.go.dev is out of
#      reach here, but the Go module proxy serves vulndb like any module,
#      and its data/osv folder holds every OSV entry; .ci/vulndb/main.go
#      lays them out as the v1 database that govulncheck -db file:// reads.
# Any failure stops the run with a non-zero exit. Needs go on PATH; installs
# govulncheck into $(go env GOPATH)/bin when that version is not there.
# Usage: bash .ci/supply.sh [module directory, relative to the root ...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

GOVULNCHECK_VERSION=v1.9.0
# Bump both together: the vulndb snapshot (a pseudo-version names a commit
# of golang.org/x/vulndb) and its module hash, which pins its content even
# where no checksum database is reachable.
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
VULNDB_SUM=h1:mfngRv0Yoh0VApsXKEN82CjD99kl7mtparN3bs3JnqI=

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "supply: FAILED: $*" >&2; exit 1; }

PATH="$(go env GOPATH)/bin:$PATH"
go version
if (($#)); then
  modules=("$@")
else
  list=$(bash .ci/modules.sh) || fail "could not list the modules (.ci/modules.sh, above)"
  mapfile -t modules <<<"$list"
fi
echo "modules: ${modules[*]}"

step "govulncheck ${GOVULNCHECK_VERSION} with golang.org/x/vulndb@${VULNDB_VERSION}"
# grep reads a here-string, not a pipe: grep -q stops at its match, and under
# pipefail the SIGPIPE govulncheck then got for its next line failed the check.
if ! grep -q "govulncheck@${GOVULNCHECK_VERSION}\$" <<<"$(govulncheck -version 2>/dev/null)"; then
  go install "golang.org/x/vuln/cmd/govulncheck@${GOVULNCHECK_VERSION}"
fi
grep -q "govulncheck@${GOVULNCHECK_VERSION}\$" <<<"$(govulncheck -version)" || fail "govulncheck is not ${GOVULNCHECK_VERSION}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Downloaded from outside the modules, so that go.mod and go.sum stay as they are.
info=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "golang.org/x/vulndb@${VULNDB_VERSION}") ||
  fail "could not download golang.org/x/vulndb@${VULNDB_VERSION}: $info"
field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p" <<<"$info"; }
[ "$(field Sum)" = "$VULNDB_SUM" ] || fail "golang.org/x/vulndb@${VULNDB_VERSION} has hash $(field Sum), want ${VULNDB_SUM}"
osv="$(field Dir)/data/osv"
[ -d "$osv" ] || fail "no data/osv in golang.org/x/vulndb@${VULNDB_VERSION}"
# The pseudo-version's timestamp is the vulndb commit's: the database's age.
stamp=${VULNDB_VERSION:7:14}
modified="${stamp:0:4}-${stamp:4:2}-${stamp:6:2}T${stamp:8:2}:${stamp:10:2}:${stamp:12:2}Z"
go run .ci/vulndb/main.go -osv "$osv" -out "$work/db" -modified "$modified"

# Each module is checked with GOWORK=off: its own go.mod and go.sum, the
# build list a project that requires it gets (the replace lines that point
# at this repository's other modules aside).
export GOWORK=off
for mod in "${modules[@]}"; do
  [ -f "$mod/go.mod" ] || fail "$mod: no go.mod"
  name=$(cd "$mod" && go list -m)

  step "$name: go mod verify (module cache against go.sum)"
  (cd "$mod" && go mod verify) || fail "$name: go mod verify: a downloaded module does not match go.sum"

  step "$name: go mod tidy -diff (go.mod and go.sum are tidy)"
  (cd "$mod" && go mod tidy -diff) || fail "$name: go.mod/go.sum are not tidy: run 'go mod tidy' in $mod and commit the diff above"
  echo "go.mod and go.sum are tidy"

  step "$name: govulncheck"
  start=$SECONDS
  # Exit 3 means a vulnerability reachable from the module's code. One in
  # a required module is fixed here, in go.mod, and fails the run. One only
  # in the standard library is fixed by the Go release that builds the
  # code: .ci/run builds with the patched release go.mod's toolchain line
  # names, so one fails the run too (GINKEY_VULN_STDLIB=warn only warns,
  # for a local run with an older Go).
  rc=0
  (cd "$mod" && timeout 900 govulncheck -db "file://$work/db" ./...) | tee "$work/govulncheck.txt" || rc=$?
  took=$((SECONDS - start))
  case "$rc" in
    0)
      echo "govulncheck: $name: no reachable vulnerabilities (${took}s; database as of ${modified})" ;;
    3)
      if grep -qE '^ +Module: ' "$work/govulncheck.txt"; then
        fail "govulncheck: $name: a required module has a reachable vulnerability; upgrade it in $mod/go.mod (see above)"
      fi
      fixed=$(grep -oE 'Fixed in: [a-z0-9/]+@go[0-9.]+' "$work/govulncheck.txt" | sed 's/.*@//' | sort -uV | tail -n 1)
      if [ "${GINKEY_VULN_STDLIB:-fail}" = fail ]; then
        fail "govulncheck: $name: the standard library of $(go env GOVERSION) has reachable vulnerabilities; build with ${fixed} or later"
      fi
      echo
      echo "WARNING: govulncheck: $name: the standard library of $(go env GOVERSION) has reachable vulnerabilities (above);"
      echo "WARNING: no required module has one. Build and test with ${fixed} or later (GINKEY_VULN_STDLIB=warn made this a warning)."
      echo "govulncheck: $name: finished in ${took}s; database as of ${modified}" ;;
    *)
      fail "govulncheck: $name: could not run (exit ${rc}); see above" ;;
  esac
done
echo
echo "supply: go mod verify, go mod tidy -diff and govulncheck passed for ${#modules[@]} modules (${GOVULNCHECK_VERSION}, vulndb ${VULNDB_VERSION})"
