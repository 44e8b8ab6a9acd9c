#!/usr/bin/env bash
# Side by side on loopback: a client_credentials token request made by
#   a) `token-inspector exchange` (builds a fresh PS256 assertion, sends, parses, decodes,
#      runs the checks, prints JSON), and
#   b) curl, replaying the command `token-inspector exchange --curl` printed (the server
#      refuses the replayed jti with a 400, which costs it the same signature check),
# against the embedded sandbox (`token-inspector mock-server`). Reports wall time per
# request (hyperfine) and peak memory (GNU time).
# Usage: benches/exchange_vs_curl.sh [path/to/token-inspector]   (default: target/release)
#        TLS=1 benches/exchange_vs_curl.sh ...   the same over HTTPS (the sandbox's --tls
#        mode with its local CA: rustls for us, curl's own TLS library for curl)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release/token-inspector}"
[ -x "$BIN" ] || { echo "build it first: cargo build --release" >&2; exit 2; }
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
[ -x /usr/bin/time ] || apt-get install -y -qq time >/dev/null
WORK="$(mktemp -d)"
export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/cfg"
PORT=8471
TLS_ARGS=()
if [ "${TLS:-0}" = 1 ]; then TLS_ARGS=(--tls); fi
"$BIN" mock-server --port "$PORT" "${TLS_ARGS[@]}" > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
sleep 1
SCHEME=http
CURL_CA=()
CLI_CA=()
if [ "${TLS:-0}" = 1 ]; then
  SCHEME=https
  sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$WORK/server.log" > "$WORK/ca.pem"
  CURL_CA=(--cacert "$WORK/ca.pem")
  CLI_CA=(--cacert "$WORK/ca.pem")
fi
ISSUER="$SCHEME://127.0.0.1:$PORT"
"$BIN" keygen --out "$WORK/k.pem" --jwks-out "$WORK/k.jwks" >/dev/null 2>&1
curl -s "${CURL_CA[@]}" "$ISSUER/register" -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"bench\",\"jwks\":$(cat "$WORK/k.jwks")}" >/dev/null
ARGS=(exchange --grant client_credentials --issuer "$ISSUER" --token-endpoint "$ISSUER/token"
      --client-id bench --key "$WORK/k.pem" --scope accounts "${CLI_CA[@]}")
"$BIN" "${ARGS[@]}" --curl > "$WORK/curl.sh"
hyperfine --warmup 3 --runs 50 -N \
  --command-name "token-inspector exchange --json" "$BIN ${ARGS[*]} --json" \
  --command-name "curl (same request)" "bash $WORK/curl.sh" \
  --export-markdown "$WORK/result.md" >/dev/null
cat "$WORK/result.md"
for cmd in "$BIN ${ARGS[*]} --json" "bash $WORK/curl.sh"; do
  /usr/bin/time -f "%M KB peak RSS: ${cmd%% *}" $cmd >/dev/null 2>"$WORK/time.txt" || true
  tail -1 "$WORK/time.txt"
done
