#!/usr/bin/env bash
# Regenerate tests/fixtures/js/{requests,post,chunked}.json with the real AWS SDK for
# JavaScript v3 (versions pinned in package.json / package-lock.json).  Offline apart
# from `npm ci`; deterministic: two runs give byte-identical files.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "generate.sh: node is required (>= 20)" >&2; exit 1; }
command -v npm >/dev/null || { echo "generate.sh: npm is required" >&2; exit 1; }

npm ci --no-audit --no-fund --loglevel=error

# The generator also scrubs AWS_* and points the SDK at non-existent config files itself;
# doing it here as well keeps a developer's profile out of the SDK's config chain.
env -u AWS_PROFILE -u AWS_REGION -u AWS_DEFAULT_REGION \
  -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
  TZ=UTC LC_ALL=C \
  node generate.mjs
