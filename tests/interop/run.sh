#!/usr/bin/env bash
# Interop test: token-inspector against panva's oidc-provider in its FAPI 2.0 profile
# (PAR, signed request objects, PKCE S256, private_key_jwt, mTLS-bound tokens).
#
#   bash tests/interop/run.sh            (BIN=... to test another binary)
#
# Needs node (>= 20), npm, openssl, curl and jq. Runs on loopback only.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${BIN:-$ROOT/target/debug/token-inspector}"
CLIENT_ID=interop-client

for tool in node npm openssl curl jq; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
[[ -x "$BIN" ]] || { echo "no binary at $BIN (build it first: cargo build)" >&2; exit 2; }

if [[ ! -d "$HERE/node_modules/oidc-provider" ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/token-inspector-interop.XXXXXX")"
PROVIDER_PID=""
CLI_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$CLI_PID" ]] && kill -0 "$CLI_PID" 2>/dev/null; then kill "$CLI_PID" 2>/dev/null || true; fi
  if [[ -n "$PROVIDER_PID" ]] && kill -0 "$PROVIDER_PID" 2>/dev/null; then
    kill "$PROVIDER_PID" 2>/dev/null || true
    wait "$PROVIDER_PID" 2>/dev/null || true
  fi
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"

PASSED=0
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
dump() {
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    echo "----- $f -----" >&2
    cat "$f" >&2
    echo >&2
  done
}
fail() {
  echo "FAIL: $*" >&2
  dump provider.log "$@" >&2
  echo "$PASSED passed, 1 failed"
  exit 1
}
# check NAME FILE JQ-FILTER [extra files to show on failure...]
check() {
  local name=$1 file=$2 filter=$3
  shift 3
  if jq -e "$filter" "$file" >/dev/null 2>&1; then ok "$name"; else fail "$name ($filter)" "$file" "$@"; fi
}

# --- keys and certificates -------------------------------------------------------
cat > openssl-leaf.cnf <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
EOF
openssl req -x509 -config openssl-leaf.cnf -extensions server -newkey ec \
  -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=127.0.0.1" \
  -keyout server-key.pem -out server-cert.pem 2>openssl.log || { cat openssl.log >&2; exit 1; }
openssl req -x509 -config openssl-leaf.cnf -extensions client -newkey ec \
  -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=$CLIENT_ID" \
  -keyout client-key.pem -out client-cert.pem 2>openssl.log || { cat openssl.log >&2; exit 1; }
"$BIN" keygen --type p256 --out key.pem --jwks-out jwks.json >keygen.log 2>&1 \
  || fail "keygen" keygen.log
ok "keys and certificates made"

# --- the provider ------------------------------------------------------------------
RPORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
REDIRECT_URI="http://127.0.0.1:$RPORT/cb"

TLS_CERT="$WORK/server-cert.pem" TLS_KEY="$WORK/server-key.pem" PORT=0 \
  CLIENT_ID="$CLIENT_ID" CLIENT_JWKS="$WORK/jwks.json" REDIRECT_URI="$REDIRECT_URI" \
  node "$HERE/provider.mjs" >provider.out 2>provider.log &
PROVIDER_PID=$!

ISSUER=""
for _ in $(seq 1 100); do
  ISSUER="$(sed -n 's/^issuer: //p' provider.out 2>/dev/null | head -n1)"
  [[ -n "$ISSUER" ]] && break
  kill -0 "$PROVIDER_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$ISSUER" ]] || fail "provider did not start" provider.out
ok "provider listening at $ISSUER"

curl -sS --cacert server-cert.pem "$ISSUER/.well-known/openid-configuration" -o discovery.json \
  || fail "discovery" discovery.json
check "discovery requires PAR and signed request objects" discovery.json \
  '.require_pushed_authorization_requests == true and .require_signed_request_object == true'

# --- authorization code flow (the script plays the browser) ----------------------
"$BIN" authorize --issuer "$ISSUER" --client-id "$CLIENT_ID" --key key.pem --alg ES256 \
  --cert client-cert.pem --cert-key client-key.pem --cacert server-cert.pem \
  --redirect-uri "$REDIRECT_URI" --scope openid --listen --listen-timeout 60 --json \
  >out.json 2>err.txt &
CLI_PID=$!

URL=""
for _ in $(seq 1 300); do
  URL="$(sed -n 's/^authorization_url: //p' err.txt 2>/dev/null | head -n1)"
  [[ -n "$URL" ]] && break
  kill -0 "$CLI_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$URL" ]] || fail "authorize printed no authorization_url" err.txt out.json
ok "PAR accepted, authorization URL ready"

curl -sS -L --max-redirs 20 --max-time 30 --cacert server-cert.pem -c jar -b jar \
  -w '%{http_code} %{url_effective}\n' "$URL" -o browser.html >browser.txt 2>&1 \
  || fail "browser (curl -L) did not reach the redirect_uri" browser.txt browser.html err.txt
case "$(cat browser.txt)" in
  "200 $REDIRECT_URI"*) ok "browser redirected to the redirect_uri" ;;
  *) fail "browser ended elsewhere: $(cat browser.txt)" browser.html err.txt ;;
esac

CLI_RC=0
wait "$CLI_PID" || CLI_RC=$?
CLI_PID=""
[[ "$CLI_RC" == 0 ]] || fail "authorize --listen exited with $CLI_RC" err.txt out.json
ok "authorize --listen exited 0"
check "authorization code exchanged (200)" out.json '.response.status == 200' err.txt
check "request object typed oauth-authz-req+jwt" out.json \
  '.authorization.request_object.header.typ == "oauth-authz-req+jwt"' err.txt
check "token_type present" out.json '.response.body.token_type | type == "string"' err.txt

# RFC 8705 §3: the access token is bound to the client certificate's SHA-256 thumbprint.
X5T="$(openssl x509 -in client-cert.pem -outform DER | openssl dgst -sha256 -binary \
  | base64 | tr '+/' '-_' | tr -d '=\n')"
grep -qx "bound: access_token x5t#S256=$X5T" provider.log \
  || fail "access token not bound to the client certificate (x5t#S256=$X5T)" err.txt
ok "access token bound to the client certificate (x5t#S256)"

# --- client credentials ------------------------------------------------------------
CC_RC=0
"$BIN" exchange --grant client_credentials --issuer "$ISSUER" --client-id "$CLIENT_ID" \
  --key key.pem --alg ES256 --cert client-cert.pem --cert-key client-key.pem \
  --cacert server-cert.pem --scope openid --json >cc.json 2>cc-err.txt || CC_RC=$?
[[ "$CC_RC" == 0 ]] || fail "exchange --grant client_credentials exited with $CC_RC" cc-err.txt cc.json
check "client_credentials grant (200)" cc.json '.response.status == 200' cc-err.txt
grep -qx "bound: client_credentials x5t#S256=$X5T" provider.log \
  || fail "client_credentials token not bound to the client certificate" cc-err.txt
ok "client_credentials token bound to the client certificate (x5t#S256)"

echo "$PASSED passed, 0 failed"
