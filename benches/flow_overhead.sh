#!/usr/bin/env bash
# A 6-step flow (authorize, token, balances, refresh, introspect, revoke) against the
# embedded sandbox, run by `token-inspector run` in one process with one connection pool:
# its wall time against the sum of its steps' own times (what the flow adds between
# steps: judging, captures, building the next request), and against the same six
# steps made by six separate commands (a process and a connection each; the authorize
# and token steps are one `exchange --auto-approve` there, so five commands).
# Usage: benches/flow_overhead.sh [path/to/token-inspector]   (default: target/release)
#        RUNS=20 benches/flow_overhead.sh ...
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release/token-inspector}"
[ -x "$BIN" ] || { echo "build it first: cargo build --release" >&2; exit 2; }
RUNS="${RUNS:-20}"
WORK="$(mktemp -d)"
export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/cfg"
PORT=8493
"$BIN" mock-server --port "$PORT" >"$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
ISSUER="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$ISSUER/jwks" >/dev/null 2>&1 && break; sleep 0.1; done
"$BIN" keygen --type p256 --out "$WORK/key.pem" --jwks-out "$WORK/key.jwks.json" >/dev/null 2>&1
curl -s "$ISSUER/register" -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"bench\",\"jwks\":$(cat "$WORK/key.jwks.json")}" >/dev/null
# Drop the discover step (the file's first): six steps remain.
python3 - "$WORK/six.toml" flows/malaysia-sandbox.toml <<'PY'
import sys, re
text = open(sys.argv[2]).read()
text = re.sub(r'\[\[step\]\]\ndo = "discover"\n\[step.expect\]\nno_findings = \[[^\]]*\]\n\n', '', text)
open(sys.argv[1], "w").write(text)
PY
COMMON=(--issuer "$ISSUER" --client-id bench --key "$WORK/key.pem" --redirect-uri "$ISSUER/callback" --scope "openid accounts")
ratios=()
walls=()
for _ in $(seq "$RUNS"); do
  "$BIN" run "$WORK/six.toml" "${COMMON[@]}" --json >"$WORK/run.json"
  ratios+=("$(jq '.elapsed_ms / ([.steps[].elapsed_ms] | add)' "$WORK/run.json")")
  walls+=("$(jq '.elapsed_ms' "$WORK/run.json")")
done
steps="$(jq '.steps | length' "$WORK/run.json")"
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
echo "flow: $steps steps, $RUNS runs"
echo "  flow time / sum of its steps' times: median $(median "${ratios[@]}"), max $(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)"
echo "  flow time (ms): median $(median "${walls[@]}")"
# The same steps as separate commands, timed from outside.
start=$(date +%s%N)
for _ in $(seq "$RUNS"); do
  "$BIN" exchange "${COMMON[@]}" --auto-approve --json >"$WORK/token.json"
  ACCOUNT=$(jq -r '.response.body.authorization_details[0].consent.accounts[0].account_id' "$WORK/token.json")
  AT=$(jq -r .response.body.access_token "$WORK/token.json")
  RT=$(jq -r .response.body.refresh_token "$WORK/token.json")
  TOKEN_INSPECTOR_ACCESS_TOKEN="$AT" "$BIN" call "$ISSUER/accounts/$ACCOUNT/balances" --json >/dev/null
  TOKEN_INSPECTOR_REFRESH_TOKEN="$RT" "$BIN" exchange "${COMMON[@]}" --grant refresh_token --json >/dev/null || true
  TOKEN_INSPECTOR_TOKEN="$AT" "$BIN" introspect "${COMMON[@]}" --json >/dev/null || true
  TOKEN_INSPECTOR_TOKEN="$AT" "$BIN" revoke "${COMMON[@]}" --json >/dev/null || true
done
end=$(date +%s%N)
echo "  the same steps as 5 separate commands: $(( (end - start) / RUNS / 1000000 )) ms per round (processes included)"
start=$(date +%s%N)
for _ in $(seq "$RUNS"); do "$BIN" run "$WORK/six.toml" "${COMMON[@]}" >/dev/null; done
end=$(date +%s%N)
echo "  token-inspector run of the flow: $(( (end - start) / RUNS / 1000000 )) ms per round (process included)"
