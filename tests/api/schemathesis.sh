#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document with schemathesis (PyPI):
# every operation, with valid and invalid data, as the public, as a supporter
# and as the region (bearer tokens). Any 5xx fails the run, as does a panic in
# the server's log. Bounded: ST_MAX_TIME seconds per caller (default 60).
#
#   tests/api/schemathesis.sh [path/to/yuanjiang]
set -euo pipefail
cd "$(dirname "$0")/../.."

bin="${1:-target/debug/yuanjiang}"
max_time="${ST_MAX_TIME:-60}"
st_bin="$(command -v st || true)"
if [ -z "$st_bin" ]; then
  echo "SKIPPED schemathesis: the st command is missing (pip install schemathesis)"
  exit 0
fi

work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:${port}"
db="sqlite://${work}/fuzz.db"
export YUANJIANG_DATA_DIR="$work"
log="${work}/server.log"

YUANJIANG_LOG=warn "$bin" serve --demo --db "$db" --listen "127.0.0.1:${port}" >"$log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 180); do
  curl -fsS "${base}/healthz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "${base}/healthz" >/dev/null

token() { "$bin" token create --db "$db" --user "$1" --label fuzz | grep -o 'yj_[A-Za-z0-9_-]*' | head -1; }
supporter_token="$(token sh-officer)"
region_token="$(token region)"

status=0
run() {
  local who="$1"; shift
  echo "== schemathesis as ${who}"
  # From the work directory: schemathesis keeps its .hypothesis there.
  if ! (cd "$work" && "$st_bin" run "${base}/api/v1/openapi.json" \
      --checks not_a_server_error \
      --max-time "$max_time" \
      --workers 2 \
      --seed 20261129 \
      --request-timeout 10 \
      --suppress-health-check all \
      --generation-database none \
      --no-color \
      "$@"); then
    status=1
  fi
}
run public
run supporter -H "Authorization: Bearer ${supporter_token}"
run region -H "Authorization: Bearer ${region_token}"

if grep -qiE 'panicked|"level":"ERROR"' "$log"; then
  echo "!! the server logged errors or panics:"
  grep -iE 'panicked|"level":"ERROR"' "$log" | head -20
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "schemathesis: passed (no 5xx, no server errors logged)"
else
  echo "schemathesis: FAILED"
fi
exit "$status"
