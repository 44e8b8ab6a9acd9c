#!/usr/bin/env bash
# Interop test: the FAPI 1 Advanced front channels against panva's oidc-provider in its
# FAPI 1.0 Final profile (provider.mjs with FAPI=1.0; mTLS-bound tokens, PAR, signed
# request objects), with a real browser (headless Chromium) executing the loopback
# catcher's relay page:
#   1. the hybrid flow: code, id_token and state in the fragment; the id_token verified
#      (PS256, the provider's keys), c_hash and s_hash checked, then the code redeemed;
#   2. JARM (response_mode jwt, here in the query): the response JWT verified and read;
#   3. Open Finance Brasil: the front-channel id_token encrypted to the client's use:enc
#      key (RSA-OAEP, A256GCM, its JWE header repeating iss and aud), opened with
#      --decrypt-key, then checked; the token endpoint's id_token is encrypted too.
#
#   bash tests/interop/fapi1.sh          (BIN=... to test another binary)
NAME=fapi1 source "$(dirname "$0")/lib.sh"
command -v chromium >/dev/null || { echo "missing tool: chromium (scripts/install-deps)" >&2; exit 2; }
if [[ ! -d "$HERE/node_modules/oidc-provider" ]]; then (cd "$HERE" && npm ci --no-audit --no-fund >&2); fi
CLIENT_ID=fapi1-client

# Keys: the server's certificate, the client's certificate (mTLS), its PS256 signing key
# and its RSA encryption key (both in its registered JWK Set).
cat > leaf.cnf <<'CNF'
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
CNF
openssl req -x509 -config leaf.cnf -extensions server -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -nodes -days 1 -subj "/CN=127.0.0.1" -keyout server-key.pem -out server-cert.pem 2>openssl.log
openssl req -x509 -config leaf.cnf -extensions client -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
  -nodes -days 1 -subj "/CN=$CLIENT_ID" -keyout client-key.pem -out client-cert.pem 2>>openssl.log
"$BIN" keygen --type rsa2048 --out sig.pem --jwks-out sig.jwks.json >keygen.log 2>&1
"$BIN" keygen --type rsa2048 --out enc.pem --jwks-out enc.jwks.json >>keygen.log 2>&1
jq -s '{keys: [(.[0].keys[0] + {use: "sig"}), (.[1].keys[0] + {use: "enc", alg: "RSA-OAEP"})]}' \
  sig.jwks.json enc.jwks.json >client.jwks.json
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# provider NAME [env...]: provider.mjs in FAPI 1.0 Final; sets ISSUER and REDIRECT_URI.
provider() {
  local name=$1
  shift
  REDIRECT_URI="http://127.0.0.1:$(free_port)/cb"
  env "$@" FAPI=1.0 BINDING=mtls TLS_CERT=server-cert.pem TLS_KEY=server-key.pem PORT=0 \
    CLIENT_ID="$CLIENT_ID" CLIENT_JWKS=client.jwks.json REDIRECT_URI="$REDIRECT_URI" \
    node "$HERE/provider.mjs" >"$name.out" 2>"$name.log" &
  RS_PID=$!
  PIDS+=("$RS_PID")
  cp "$name.log" rs.log 2>/dev/null || true
  ISSUER=""
  for _ in $(seq 100); do
    ISSUER="$(sed -n 's/^issuer: //p' "$name.out" | head -n1)"
    [[ -n "$ISSUER" ]] && break
    sleep 0.1
  done
  [[ -n "$ISSUER" ]] || fail "$name: the provider did not start" "$name.out" "$name.log"
}

# through NAME [authorize flags]: authorize --listen --open with Chromium as the browser.
through() {
  local name=$1
  shift
  local rc=0
  RELAY_DOM="$WORK/$name.dom" RELAY_SANDBOX=0 RELAY_TRUST_ANY=1 PATH="$ROOT/tests/browser:$PATH" \
    timeout 120 "$BIN" authorize --issuer "$ISSUER" --client-id "$CLIENT_ID" --key sig.pem --alg PS256 \
    --cacert server-cert.pem --cert client-cert.pem --cert-key client-key.pem \
    --redirect-uri "$REDIRECT_URI" --scope openid --listen --listen-timeout 90 --open --json "$@" \
    >"$name.json" 2>"$name.err" || rc=$?
  [[ "$rc" == 0 ]] || fail "$name: authorize --listen exited $rc" "$name.json" "$name.err" "$name.log" "$name.dom.log"
}

provider hybrid
through hybrid --response-type "code id_token"
check "hybrid: the fragment relayed by the page in Chromium, the id_token (PS256) verified, c_hash and s_hash, the code redeemed" hybrid.json \
  '.response.status == 200 and .authorization.front_channel.id_token.signature.status == "valid"
   and (.authorization.front_channel.id_token.claims | has("c_hash") and has("s_hash"))
   and ([.authorization.front_channel.id_token.findings[] | select(.severity == "error")] | length == 0)'
check "hybrid: no iss in the fragment (the id_token's iss is the check), none invented" hybrid.json \
  '(any(.authorization.redirect[]; .[0] == "iss") | not)'
through jarm --response-type code --response-mode jwt
check "JARM: the response JWT verified (signature, iss, aud, exp) and read, the code redeemed" jarm.json \
  '.response.status == 200 and .authorization.front_channel.jarm.signature.status == "valid"
   and ([.authorization.front_channel.jarm.findings[] | select(.severity == "error")] | length == 0)'

# The same provider from a flow file: `run` with its authorize step approved in the
# browser (Chromium again), JUnit written.
rc=0
RELAY_DOM="$WORK/flow.dom" RELAY_SANDBOX=0 RELAY_TRUST_ANY=1 PATH="$ROOT/tests/browser:$PATH" \
  timeout 120 "$BIN" run "$HERE/fapi1-flow.toml" --issuer "$ISSUER" --client-id "$CLIENT_ID" \
  --key sig.pem --alg PS256 --cacert server-cert.pem --cert client-cert.pem --cert-key client-key.pem \
  --redirect-uri "$REDIRECT_URI" --scope openid --response-type "code id_token" \
  --listen-timeout 90 --junit flow.xml >flow.out 2>flow.err || rc=$?
[[ "$rc" == 0 ]] || fail "run fapi1-flow.toml exited $rc" flow.out flow.err hybrid.log
grep -q 'tests="5" failures="0"' flow.xml || fail "the flow's JUnit" flow.xml flow.out
ok "a flow file against the provider: the authorize step approved in Chromium, 5 steps passed, JUnit written"
kill "$RS_PID" 2>/dev/null || true

provider brazil ENCRYPT_ID_TOKEN=1
through brazil --response-type "code id_token" --decrypt-key enc.pem
check "Brazil: the front-channel id_token encrypted (RSA-OAEP) to the client, opened and checked, the code redeemed" brazil.json \
  '.response.status == 200 and .authorization.front_channel.id_token.encryption.alg == "RSA-OAEP"
   and .authorization.front_channel.id_token.signature.status == "valid"
   and ([.authorization.front_channel.id_token.findings[] | select(.severity == "error")] | length == 0)'

check "Brazil: the token endpoint's id_token, encrypted too, opened with the same key and verified" brazil.json \
  '[.response.tokens[] | select(.path == "id_token")][0]
   | .signature.status == "valid" and any(.findings[]; .code == "jose.decrypted")'
check "no iss warning where a signed answer names its issuer (hybrid, JARM)" hybrid.json \
  '(any(.findings[]; .code == "redirect.iss_missing") | not)'

echo "$PASSED passed, 0 failed"
