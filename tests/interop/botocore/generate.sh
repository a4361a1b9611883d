#!/usr/bin/env bash
# Regenerate tests/fixtures/botocore/{presign,requests,post}.json with the real
# botocore pinned in requirements.txt.  Offline apart from `pip install`.
#
#   tests/interop/botocore/generate.sh           # rewrite the fixtures
#   tests/interop/botocore/generate.sh --check   # regenerate into a temp dir and
#                                                # fail if the committed files differ
# Environment: PYTHON (default python3, needs >= 3.9).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
fixtures="$root/tests/fixtures/botocore"
python="${PYTHON:-python3}"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/presign-botocore.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  --no-input --require-hashes --only-binary=:all: --no-deps \
  -r "$here/requirements.txt"

out="$fixtures"
if [ "$check" = 1 ]; then
  out="$tmp/out"
fi

# A clean environment: no AWS_* variables, no ~/.aws, fixed hash seed.
env -i PATH="/usr/bin:/bin" HOME="$tmp" LANG=C.UTF-8 LC_ALL=C.UTF-8 \
  PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 PYTHONIOENCODING=utf-8 \
  "$tmp/venv/bin/python" "$here/generate.py" --out "$out"

if [ "$check" = 1 ]; then
  status=0
  for f in presign.json requests.json post.json; do
    if ! cmp -s "$out/$f" "$fixtures/$f"; then
      echo "MISMATCH: tests/fixtures/botocore/$f differs from a fresh generation" >&2
      status=1
    fi
  done
  if [ "$status" = 0 ]; then
    echo "fixtures up to date"
  fi
  exit "$status"
fi
