#!/usr/bin/env bash
# End-to-end tests of the gateway example against clients nobody here wrote: boto3 (PyPI),
# the AWS SDK for JavaScript v3 (npm) and Debian's Chromium driven by playwright-core.
#
#   bash tests/e2e/run.sh
#
# Builds the example once, starts it on a free loopback port with a temporary data directory
# and a known token, installs what the clients need (a temporary venv, `npm ci`, and
# `apt-get install chromium` when /usr/bin/chromium is missing), runs the three scripts,
# always stops the server, and ends with `e2e: N passed, N failed, N skipped`.
# Environment: PYTHON (default python3), CHROMIUM (default /usr/bin/chromium),
# E2E_ARTIFACTS (screenshots; default a temporary directory).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-python3}"
start=$SECONDS
step() { printf '\n--> %s (at %ds)\n' "$1" "$((SECONDS - start))"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/presign-e2e.XXXXXX")"
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
skipped=0
# Counts a script's PASS/FAIL/SKIP lines; a script that exits non-zero without reporting a
# failure (a crash, a missing module) counts as one failure.
tally() {
  local name="$1" log="$2" status="$3"
  local p f s
  p=$(grep -c '^PASS ' "$log" || true)
  f=$(grep -c '^FAIL ' "$log" || true)
  s=$(grep -c '^SKIP ' "$log" || true)
  if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exited with status $status"
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  skipped=$((skipped + s))
}
# Runs one script, its output shown as it comes and kept for the tally.
run_script() {
  local name="$1"
  shift
  local log="$work/$name.log" status=0
  "$@" 2>"$work/$name.err" | tee "$log" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- $name stderr (last 40 lines) ---"
    tail -n 40 "$work/$name.err"
  fi
  tally "$name" "$log" "$status"
}

step "build the gateway example"
# --all-features shares the build of `cargo test --all-features`, which CI runs first.
(cd "$root" && cargo build --quiet --all-features --example gateway)
target_dir="${CARGO_TARGET_DIR:-$root/target}"
bin="$target_dir/debug/examples/gateway"

step "start the gateway"
export AWS_ACCESS_KEY_ID="GWE2EKEY000000000001"
export AWS_SECRET_ACCESS_KEY="e2e-secret-0123456789abcdefghijklmnopqrstu"
export GATEWAY_TOKEN="e2e-token-$RANDOM$RANDOM"
# No developer profile or region may reach the SDKs: they use exactly what is set here.
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
mkdir -p "$work/data"
"$bin" --listen 127.0.0.1:0 --data-dir "$work/data" >"$work/gateway.out" 2>"$work/gateway.err" &
server=$!
for _ in $(seq 1 100); do
  if grep -q '^presign gateway listening on ' "$work/gateway.out" 2>/dev/null; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.1
done
GATEWAY_URL="$(sed -n 's/^presign gateway listening on //p' "$work/gateway.out" | head -n 1)"
if [ -z "$GATEWAY_URL" ]; then
  echo "the gateway did not start:" >&2
  cat "$work/gateway.err" >&2
  exit 1
fi
export GATEWAY_URL
echo "gateway at $GATEWAY_URL"

step "boto3 (PyPI, pinned in requirements.txt)"
if "$python" -m venv "$work/venv" &&
  "$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --only-binary=:all: -r "$here/requirements.txt"; then
  run_script boto3 "$work/venv/bin/python" "$here/boto3_gateway.py"
else
  echo "FAIL boto3: could not install boto3"
  failed=$((failed + 1))
fi

step "AWS SDK for JavaScript v3 (npm ci)"
if (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
  # The SDK warns about Node 20's end of support on every run; it is noise here.
  run_script js env NODE_NO_WARNINGS=1 node "$here/js_gateway.mjs"
else
  echo "FAIL js: npm ci failed"
  failed=$((failed + 1))
fi

step "headless Chromium (Debian's, driven by playwright-core)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
      echo "apt-get could not install chromium" >&2
    fi
  fi
fi
if [ -x "$chromium" ]; then
  export CHROMIUM="$chromium"
  export E2E_ARTIFACTS="${E2E_ARTIFACTS:-$work/artifacts}"
  run_script browser node "$here/browser.mjs"
else
  echo "skipped: browser ($chromium is missing and apt-get could not install chromium)"
  skipped=$((skipped + 1))
fi

step "done in $((SECONDS - start))s"
if [ "$failed" -ne 0 ]; then
  echo "--- gateway stderr (last 40 lines) ---"
  tail -n 40 "$work/gateway.err"
fi
echo "e2e: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
