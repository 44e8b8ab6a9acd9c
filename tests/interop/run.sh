#!/usr/bin/env bash
# Interop test: token-inspector against panva's oidc-provider in its FAPI 2.0 profile
# (PAR, signed request objects, PKCE S256, private_key_jwt), twice:
#   1. mTLS-bound tokens (RFC 8705): provider.mjs with BINDING=mtls
#   2. DPoP-bound tokens (RFC 9449) with server nonces required on PAR, token and
#      userinfo: provider.mjs with BINDING=dpop
#
#   bash tests/interop/run.sh            (BIN=... to test another binary)
#
# Needs node (>= 20), npm, openssl, curl and jq. Runs on loopback only.
# `note:` lines report what the client could do better without failing the run.
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
MTLS_PROVIDER_PID=""
DPOP_PROVIDER_PID=""
CLI_PID=""
stop_pid() {
  local pid=$1
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
}
cleanup() {
  local rc=$?
  if [[ -n "$CLI_PID" ]] && kill -0 "$CLI_PID" 2>/dev/null; then kill "$CLI_PID" 2>/dev/null || true; fi
  stop_pid "$MTLS_PROVIDER_PID"
  stop_pid "$DPOP_PROVIDER_PID"
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$WORK"
# The CLI's profiles and exchange history stay in this run's folder.
export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/config"

PASSED=0
NOTES=0
# The log of the provider the current checks talk to (shown on failure).
PROVIDER_LOG=provider.log
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
note() { echo "note: $*"; NOTES=$((NOTES + 1)); }
dump() {
  local f
  for f in "$@"; do
    [[ -f "$f" ]] || continue
    echo "----- $f -----" >&2
    cat "$f" >&2
    echo >&2
  done
}
# fail MESSAGE [files to show...]: shows the provider's log and the files, then exits 1.
fail() {
  echo "FAIL: $1" >&2
  shift
  dump "$PROVIDER_LOG" "$@" >&2
  echo "$PASSED passed, 1 failed"
  exit 1
}
# check NAME FILE JQ-FILTER [extra files to show on failure...]
check() {
  local name=$1 file=$2 filter=$3
  shift 3
  if jq -e "$JQ_DEFS $filter" "$file" >/dev/null 2>&1; then ok "$name"; else fail "$name ($filter)" "$file" "$@"; fi
}
# jq helpers: b64url decodes base64url text; jwt_claims decodes a compact JWS's payload;
# resp_header(NAME) is a response header's value (headers are [name, value] pairs);
# req_header(NAME) is a request header's value (headers are {name, value} objects);
# oauth_error is an error response's "error (error_description)".
JQ_DEFS='
def b64url: gsub("-"; "+") | gsub("_"; "/") | . + ("=" * ((4 - (length % 4)) % 4)) | @base64d;
def jwt_claims: split(".")[1] | b64url | fromjson;
def resp_header($n): [.headers[]? | select(.[0] | ascii_downcase == ($n | ascii_downcase)) | .[1]] | first;
def req_header($n): [.headers[]? | select(.name | ascii_downcase == ($n | ascii_downcase)) | .value] | first;
def oauth_error: "\(.body.error // "?") (\(.body.error_description // "no error_description"))";
'
# jqr FILE FILTER: one raw value (with the helpers above); empty when null or invalid.
jqr() { jq -r "$JQ_DEFS ($2) // empty" "$1" 2>/dev/null || true; }
b64url() { base64 | tr '+/' '-_' | tr -d '=\n'; }
# RFC 7638 thumbprint of an EC public JWK (the JSON object on stdin).
ec_jkt() { jq -cj '{crv, kty, x, y}' | openssl dgst -sha256 -binary | b64url; }

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

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_provider BINDING NAME REDIRECT_URI PIDVAR: provider.mjs in the background
# (stdout NAME.out, stderr NAME.log); sets PIDVAR to its pid and ISSUER to its issuer.
start_provider() {
  local binding=$1 name=$2 redirect=$3 pidvar=$4
  PROVIDER_LOG="$name.log"
  BINDING="$binding" TLS_CERT="$WORK/server-cert.pem" TLS_KEY="$WORK/server-key.pem" PORT=0 \
    CLIENT_ID="$CLIENT_ID" CLIENT_JWKS="$WORK/jwks.json" REDIRECT_URI="$redirect" \
    node "$HERE/provider.mjs" >"$name.out" 2>"$name.log" &
  printf -v "$pidvar" '%s' "$!"
  local pid=$!
  ISSUER=""
  for _ in $(seq 1 100); do
    ISSUER="$(sed -n 's/^issuer: //p' "$name.out" 2>/dev/null | head -n1)"
    [[ -n "$ISSUER" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$ISSUER" ]] || fail "$binding provider did not start" "$name.out"
}

# authorize_listen TAG OUT ERR BROWSER REDIRECT_URI ARGS...: runs
# `authorize --listen --json ARGS` in the background, plays the browser with curl -L
# (cookie jar BROWSER.jar, page BROWSER.html) and waits for the CLI to exit 0.
authorize_listen() {
  local tag=$1 out=$2 err=$3 browser=$4 redirect=$5
  shift 5
  "$BIN" authorize --issuer "$ISSUER" --client-id "$CLIENT_ID" --key key.pem --alg ES256 \
    --cacert server-cert.pem --redirect-uri "$redirect" --scope openid \
    --listen --listen-timeout 60 --json "$@" >"$out" 2>"$err" &
  CLI_PID=$!

  local url=""
  for _ in $(seq 1 300); do
    url="$(sed -n 's/^authorization_url: //p' "$err" 2>/dev/null | head -n1)"
    [[ -n "$url" ]] && break
    kill -0 "$CLI_PID" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$url" ]] || fail "authorize printed no authorization_url$tag" "$err" "$out"
  ok "PAR accepted, authorization URL ready$tag"

  curl -sS -L --max-redirs 20 --max-time 30 --cacert server-cert.pem \
    -c "$browser.jar" -b "$browser.jar" \
    -w '%{http_code} %{url_effective}\n' "$url" -o "$browser.html" >"$browser.txt" 2>&1 \
    || fail "browser (curl -L) did not reach the redirect_uri$tag" "$browser.txt" "$browser.html" "$err"
  case "$(cat "$browser.txt")" in
    "200 $redirect"*) ok "browser redirected to the redirect_uri$tag" ;;
    *) fail "browser ended elsewhere$tag: $(cat "$browser.txt")" "$browser.html" "$err" ;;
  esac

  local rc=0
  wait "$CLI_PID" || rc=$?
  CLI_PID=""
  [[ "$rc" == 0 ]] || fail "authorize --listen exited with $rc$tag" "$err" "$out"
  ok "authorize --listen exited 0$tag"
}

# =================================================================================
# Part 1: mTLS-bound tokens
# =================================================================================
RPORT="$(free_port)"
REDIRECT_URI="http://127.0.0.1:$RPORT/cb"
start_provider mtls provider "$REDIRECT_URI" MTLS_PROVIDER_PID
ok "provider listening at $ISSUER"

curl -sS --cacert server-cert.pem "$ISSUER/.well-known/openid-configuration" -o discovery.json \
  || fail "discovery" discovery.json
check "discovery requires PAR and signed request objects" discovery.json \
  '.require_pushed_authorization_requests == true and .require_signed_request_object == true'

# --- authorization code flow (the script plays the browser) ----------------------
authorize_listen "" out.json err.txt browser "$REDIRECT_URI" \
  --cert client-cert.pem --cert-key client-key.pem
check "authorization code exchanged (200)" out.json '.response.status == 200' err.txt
check "request object typed oauth-authz-req+jwt" out.json \
  '.authorization.request_object.header.typ == "oauth-authz-req+jwt"' err.txt
check "token_type present" out.json '.response.body.token_type | type == "string"' err.txt

# RFC 8705 §3: the access token is bound to the client certificate's SHA-256 thumbprint.
X5T="$(openssl x509 -in client-cert.pem -outform DER | openssl dgst -sha256 -binary | b64url)"
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

# --- why it failed: the diagnosis against a server we did not write -----------------
# A wrong assertion aud, and a key the provider does not know: each refused
# invalid_client, each diagnosed likely, the other causes ruled out.
exchange_refused() {  # OUT ARGS...: exchange --json that the provider refuses (exit 1)
  local out=$1 rc=0
  shift
  "$BIN" exchange --grant client_credentials --issuer "$ISSUER" --client-id "$CLIENT_ID" \
    --alg ES256 --cert client-cert.pem --cert-key client-key.pem --cacert server-cert.pem \
    --scope openid --client-jwks jwks.json --json "$@" >"$out" 2>"$out.err" || rc=$?
  [[ "$rc" == 1 ]] || fail "expected exit 1 (refused), got $rc" "$out.err" "$out"
}
diagnosis() {  # FILE CODE: the status the diagnosis gives CODE
  jq -r --arg c "$2" '.diagnosis[] | select(.code == $c) | .status' "$1"
}
exchange_refused wrong-aud.json --key key.pem --aud "https://wrong.example/"
check "wrong aud refused invalid_client" wrong-aud.json '.response.body.error == "invalid_client"'
[[ "$(diagnosis wrong-aud.json diagnosis.assertion_aud)" == likely ]] \
  || fail "wrong aud not diagnosed likely" wrong-aud.json
[[ "$(diagnosis wrong-aud.json diagnosis.unregistered_key)" == ruled_out ]] \
  || fail "the registered key not ruled out" wrong-aud.json
ok "diagnosis: wrong aud likely, the registered key ruled out"
"$BIN" keygen --type p256 --out stray.pem >keygen2.log 2>&1 || fail "keygen" keygen2.log
exchange_refused stray.json --key stray.pem
[[ "$(diagnosis stray.json diagnosis.unregistered_key)" == likely ]] \
  || fail "an unregistered key not diagnosed likely" stray.json
[[ "$(diagnosis stray.json diagnosis.assertion_aud)" == ruled_out ]] \
  || fail "a right aud not ruled out" stray.json
ok "diagnosis: an unregistered key likely, aud ruled out"

# A code used twice: authorize without --listen, the browser (curl) ends on a plain
# loopback page that only shows the redirect, the code is exchanged, then again.
python3 -m http.server "$RPORT" --bind 127.0.0.1 >http.log 2>&1 &
HTTP_PID=$!
sleep 0.5
"$BIN" authorize --issuer "$ISSUER" --client-id "$CLIENT_ID" --key key.pem --alg ES256 \
  --cacert server-cert.pem --cert client-cert.pem --cert-key client-key.pem \
  --redirect-uri "$REDIRECT_URI" --scope openid --json >session.json 2>session.err \
  || fail "authorize (no --listen)" session.err session.json
curl -sS -L --max-redirs 20 --max-time 30 --cacert server-cert.pem -c reuse.jar -b reuse.jar \
  -w '%{url_effective}' "$(jq -r .authorization_url session.json)" -o reuse.html >reuse.url 2>reuse.txt \
  || fail "browser for the reused code" reuse.txt
kill "$HTTP_PID" 2>/dev/null || true
grep -q 'code=' reuse.url || fail "no code in the redirect: $(cat reuse.url)" reuse.html
reuse_exchange() {
  local out=$1 rc=0
  "$BIN" exchange --issuer "$ISSUER" --client-id "$CLIENT_ID" --key key.pem --alg ES256 \
    --cert client-cert.pem --cert-key client-key.pem --cacert server-cert.pem \
    --redirect-uri "$REDIRECT_URI" --redirect-url "$(cat reuse.url)" \
    --state "$(jq -r .state session.json)" --nonce "$(jq -r .nonce session.json)" \
    --code-verifier "$(jq -r .code_verifier session.json)" --json >"$out" 2>"$out.err" || rc=$?
  echo "$rc"
}
[[ "$(reuse_exchange reuse1.json)" == 0 ]] || fail "the code's first exchange" reuse1.json.err reuse1.json
[[ "$(reuse_exchange reuse2.json)" == 1 ]] || fail "the code's second exchange was not refused" reuse2.json
check "a reused code refused invalid_grant" reuse2.json '.response.body.error == "invalid_grant"'
[[ "$(diagnosis reuse2.json diagnosis.code_reused)" == likely ]] \
  || fail "a reused code not diagnosed likely" reuse2.json
[[ "$(diagnosis reuse2.json diagnosis.pkce_mismatch)" == ruled_out ]] \
  || fail "the right verifier not ruled out (from the PAR in the history)" reuse2.json
ok "diagnosis: a reused code likely, PKCE ruled out"

stop_pid "$MTLS_PROVIDER_PID"
MTLS_PROVIDER_PID=""

# =================================================================================
# Part 2: DPoP-bound tokens (RFC 9449), nonces required by the provider
# =================================================================================
DPOP_RPORT="$(free_port)"
DPOP_REDIRECT_URI="http://127.0.0.1:$DPOP_RPORT/cb"
start_provider dpop dpop-provider "$DPOP_REDIRECT_URI" DPOP_PROVIDER_PID
ok "DPoP provider listening at $ISSUER"

curl -sS --cacert server-cert.pem "$ISSUER/.well-known/openid-configuration" \
  -o dpop-discovery.json || fail "discovery (DPoP provider)" dpop-discovery.json
check "DPoP discovery: PAR, signed request objects, ES256 proofs, userinfo" dpop-discovery.json \
  '.require_pushed_authorization_requests == true and .require_signed_request_object == true
   and (.dpop_signing_alg_values_supported | index("ES256"))
   and (.userinfo_endpoint | type == "string")'
TOKEN_ENDPOINT="$(jqr dpop-discovery.json '.token_endpoint')"
PAR_ENDPOINT="$(jqr dpop-discovery.json '.pushed_authorization_request_endpoint')"
USERINFO="$(jqr dpop-discovery.json '.userinfo_endpoint')"

# check_nonce_challenge NAME FILE PATH STATUS [extra files]: PATH is the exchange record
# (with .first_attempt when the CLI was asked for a nonce). Expects the first attempt to
# have been STATUS use_dpop_nonce with a DPoP-Nonce header, and the retry's proof to
# carry that nonce in a fresh proof (new jti).
check_nonce_challenge() {
  local name=$1 file=$2 path=$3 status=$4
  shift 4
  if [[ "$(jqr "$file" "$path | has(\"first_attempt\") and (.first_attempt != null)")" != true ]]; then
    note "$name: the provider accepted the first DPoP proof without a nonce (no use_dpop_nonce challenge), although requireNonce is on"
    return
  fi
  check "$name: first attempt answered $status use_dpop_nonce" "$file" \
    "$path | .first_attempt.response | .status == $status and .body.error == \"use_dpop_nonce\"" "$@"
  check "$name: DPoP-Nonce header given with the challenge" "$file" \
    "$path | .first_attempt.response | resp_header(\"DPoP-Nonce\") | type == \"string\" and length > 0" "$@"
  check "$name: retry proof carries the provider's nonce" "$file" \
    "$path | (.first_attempt.response | resp_header(\"DPoP-Nonce\")) as \$n | .dpop_proof.claims.nonce == \$n" "$@"
  check "$name: retry proof is fresh (new jti)" "$file" \
    "$path | (.first_attempt.request | req_header(\"DPoP\") | jwt_claims.jti) as \$j
     | \$j != null and .dpop_proof.claims.jti != \$j" "$@"
}

# --- 1. client credentials with DPoP -----------------------------------------------
DCC_RC=0
"$BIN" exchange --grant client_credentials --issuer "$ISSUER" --client-id "$CLIENT_ID" \
  --key key.pem --alg ES256 --cacert server-cert.pem --scope openid --dpop --json \
  >dpop-cc.json 2>dpop-cc-err.txt || DCC_RC=$?
if [[ "$DCC_RC" != 0 ]]; then
  fail "exchange --grant client_credentials --dpop exited with $DCC_RC (status $(jqr dpop-cc.json \
    '.response.status'): $(jqr dpop-cc.json '.response | oauth_error'))" dpop-cc-err.txt dpop-cc.json
fi
ok "exchange --grant client_credentials --dpop exited 0"
check "DPoP client_credentials grant (200)" dpop-cc.json '.response.status == 200' dpop-cc-err.txt
check "DPoP client_credentials token_type DPoP" dpop-cc.json \
  '.response.body.token_type == "DPoP"' dpop-cc-err.txt
check "DPoP proof header: typ dpop+jwt, ES256, public EC jwk" dpop-cc.json \
  '.dpop_proof.header | .typ == "dpop+jwt" and .alg == "ES256" and .jwk.kty == "EC" and .jwk.d == null' \
  dpop-cc-err.txt
check "DPoP proof on the token request: htm POST, htu the token endpoint" dpop-cc.json \
  ".dpop_proof.claims | .htm == \"POST\" and .htu == \"$TOKEN_ENDPOINT\" and (.iat | type == \"number\")" \
  dpop-cc-err.txt
check_nonce_challenge "client_credentials" dpop-cc.json '.' 400 dpop-cc-err.txt
if [[ "$(jqr dpop-cc.json 'has("first_attempt") and .first_attempt != null')" == true ]]; then
  check "client_credentials: retry with a fresh client assertion (new jti)" dpop-cc.json \
    '.first_attempt.request.client_assertion.claims.jti as $j
     | $j != null and .request.client_assertion.claims.jti != $j' dpop-cc-err.txt
fi
CC_JKT="$(jq '.dpop_proof.header.jwk' dpop-cc.json | ec_jkt)"
grep -qx "bound: client_credentials jkt=$CC_JKT" dpop-provider.log \
  || fail "client_credentials token not bound to the DPoP key (jkt=$CC_JKT)" dpop-cc-err.txt
ok "client_credentials token bound to the DPoP key (jkt)"

# --- 2. authorization code with DPoP, then userinfo as the DPoP-protected resource --
authorize_listen " (DPoP)" dpop-out.json dpop-err.txt dpop-browser "$DPOP_REDIRECT_URI" \
  --dpop --call "$USERINFO"
check "DPoP authorization code exchanged (200)" dpop-out.json '.response.status == 200' dpop-err.txt
check "DPoP discovery lists the Malaysia consent type (RAR)" dpop-discovery.json \
  '.authorization_details_types_supported | index("urn:openfinance-ml:account-access-consent:v1.2") != null'
check "no consent invented: the request object carries no authorization_details" dpop-out.json \
  '.authorization.request_object.claims | has("authorization_details") | not' dpop-err.txt
check "DPoP authorization code token_type DPoP" dpop-out.json \
  '.response.body.token_type == "DPoP"' dpop-err.txt
check "PAR carried a DPoP proof (htm POST, htu the PAR endpoint) and was accepted (201)" dpop-out.json \
  ".authorization.par | .response.status == 201
   and .dpop_proof.claims.htm == \"POST\" and .dpop_proof.claims.htu == \"$PAR_ENDPOINT\"" dpop-err.txt
check_nonce_challenge "PAR" dpop-out.json '.authorization.par' 400 dpop-err.txt
# RFC 9449 §8.2: the client keeps using the nonce the server gave until it gets a new one.
# PAR and token endpoints are the same server here, so the token request needs no
# second challenge.
check "token request reused PAR's DPoP nonce (no second use_dpop_nonce)" dpop-out.json \
  '(.first_attempt == null) and (.dpop_proof.claims.nonce | type == "string")' dpop-err.txt
CODE_JKT="$(jq '.dpop_proof.header.jwk' dpop-out.json | ec_jkt)"
grep -qx "bound: access_token jkt=$CODE_JKT" dpop-provider.log \
  || fail "access token not bound to the DPoP key (jkt=$CODE_JKT)" dpop-err.txt
ok "access token bound to the DPoP key (jkt)"

if ! jq -e '.call.response.status == 200' dpop-out.json >/dev/null 2>&1; then
  fail "userinfo call with the DPoP token: status $(jqr dpop-out.json '.call.response.status'),
    $(jqr dpop-out.json '.call.response | oauth_error');
    WWW-Authenticate: $(jqr dpop-out.json '.call.response | resp_header("WWW-Authenticate")')" \
    dpop-err.txt dpop-out.json
fi
ok "userinfo call with the DPoP token (200)"
check "userinfo returned sub" dpop-out.json '.call.response.body.sub | type == "string"' dpop-err.txt
check "userinfo proof: htm GET, htu the userinfo endpoint, ath present" dpop-out.json \
  ".call.dpop_proof.claims | .htm == \"GET\" and .htu == \"$USERINFO\" and (.ath | type == \"string\")" \
  dpop-err.txt
ACCESS_TOKEN="$(jqr dpop-out.json '.response.body.access_token')"
ATH="$(printf '%s' "$ACCESS_TOKEN" | openssl dgst -sha256 -binary | b64url)"
check "userinfo proof ath is the access token's SHA-256" dpop-out.json \
  ".call.dpop_proof.claims.ath == \"$ATH\"" dpop-err.txt
check "userinfo proof signed by the key the token is bound to" dpop-out.json \
  '. as $r | (.call.dpop_proof.header.jwk | {crv, kty, x, y}) == ($r.dpop_proof.header.jwk | {crv, kty, x, y})' \
  dpop-err.txt

# --- 3. the resource server's nonce challenge (401, WWW-Authenticate) ------------------
# A new `call` process knows no nonce yet, so userinfo asks for one. The token and the
# DPoP key must outlive one CLI run: a DPoP key file and a second authorization.
"$BIN" keygen --type p256 --out dpop-key.pem >dpop-keygen.log 2>&1 \
  || fail "keygen (DPoP key)" dpop-keygen.log
authorize_listen " (DPoP key file)" dpop2-out.json dpop2-err.txt dpop2-browser \
  "$DPOP_REDIRECT_URI" --dpop-key dpop-key.pem
check "DPoP key file: token_type DPoP" dpop2-out.json '.response.body.token_type == "DPoP"' dpop2-err.txt
CALL_RC=0
TOKEN_INSPECTOR_ACCESS_TOKEN="$(jqr dpop2-out.json '.response.body.access_token')" \
  "$BIN" call "$USERINFO" --dpop-key dpop-key.pem --cacert server-cert.pem --json \
  >dpop-call.json 2>dpop-call-err.txt || CALL_RC=$?
if [[ "$CALL_RC" != 0 ]]; then
  fail "call userinfo --dpop-key exited with $CALL_RC (status $(jqr dpop-call.json \
    '.response.status'): $(jqr dpop-call.json '.response | oauth_error'))" dpop-call-err.txt dpop-call.json
fi
check "call userinfo with the DPoP token (200, sub)" dpop-call.json \
  '.response.status == 200 and (.response.body.sub | type == "string")' dpop-call-err.txt
check_nonce_challenge "userinfo" dpop-call.json '.' 401 dpop-call-err.txt
if [[ "$(jqr dpop-call.json 'has("first_attempt") and .first_attempt != null')" == true ]]; then
  check "userinfo challenge: WWW-Authenticate DPoP error=\"use_dpop_nonce\"" dpop-call.json \
    '.first_attempt.response | resp_header("WWW-Authenticate") | test("^DPoP .*error=\"use_dpop_nonce\"")' \
    dpop-call-err.txt
fi

# --- findings the CLI attached to the nonce challenges -------------------------------
# use_dpop_nonce is registered by RFC 9449 §12.2 (OAuth Extensions Error registry).
for pair in dpop-cc.json:dpop-cc-err.txt dpop-out.json:dpop-err.txt dpop-call.json:dpop-call-err.txt; do
  f="${pair%%:*}"
  check "$f: use_dpop_nonce reported as a step of DPoP (info), not an error" "$f" \
    '[.. | objects | select(.code? == "response.oauth_error")
     | select(.message | test("use_dpop_nonce"))] | length == 0' "${pair#*:}"
done

if ((NOTES > 0)); then echo "$NOTES notes (not failures): see the note: lines above"; fi
echo "$PASSED passed, 0 failed"
