#!/usr/bin/env bash
# The loopback catcher's relay page in a real browser (Debian's Chromium, headless):
# the bank answers the hybrid flow (code id_token) and JARM in the URL's fragment, which
# a browser never sends to a server; the catcher serves a page whose one script (allowed
# by its hash under a strict Content-Security-Policy) posts the fragment back. Checks:
#   - hybrid: `authorize --listen --open` gets the fragment through the page, checks the
#     id_token and redeems the code; the page says so;
#   - JARM in the fragment (fragment.jwt) the same way;
#   - a wrong c_hash: the page relays it, the code is not redeemed (exit 2);
#   - the relay page's headers (CSP, no-store, no-referrer) and a 404 for /favicon.ico.
#
#   bash tests/browser/relay.sh        (BIN=... to test another binary)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
for tool in chromium jq curl; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool (scripts/install-deps)" >&2; exit 2; }
done
# shellcheck source=../work.sh
NAME=relay source "$HERE/../work.sh"
fail() {
  echo "FAIL: $1" >&2
  shift
  for f in "$@"; do [[ -f "$f" ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done
  exit 1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$BIN" keygen --type rsa2048 --out client.pem --jwks-out client.jwks.json >keygen.log 2>&1

# bank NAME [mock-server flags]: a sandbox with the client registered; sets ISSUER.
bank() {
  local name=$1
  shift
  local port
  port="$(free_port)"
  "$BIN" mock-server --port "$port" --client "uk-tpp=client.jwks.json" "$@" >"$name.bank.log" 2>&1 &
  PIDS+=($!)
  ISSUER="http://127.0.0.1:$port"
  for _ in $(seq 100); do curl -sf "$ISSUER/jwks" >/dev/null 2>&1 && return; sleep 0.1; done
  fail "the sandbox $name did not start" "$name.bank.log"
}

# through NAME EXPECTED-EXIT [authorize flags]: authorize --listen --open, the browser
# being headless Chromium; the JSON in NAME.json, the page's DOM in NAME.dom.
through() {
  local name=$1 expect=$2
  shift 2
  local port rc=0
  port="$(free_port)"
  RELAY_DOM="$WORK/$name.dom" PATH="$HERE:$PATH" timeout 90 "$BIN" authorize --issuer "$ISSUER" \
    --client-id uk-tpp --key client.pem --alg PS256 --redirect-uri "http://127.0.0.1:$port/cb" \
    --scope "openid accounts" --listen --listen-timeout 60 --open --json "$@" \
    >"$name.json" 2>"$name.err" || rc=$?
  [[ "$rc" == "$expect" ]] || fail "$name: exited $rc, expected $expect" "$name.json" "$name.err" "$name.dom"
  # Chromium writes the page as it ends once its time budget is spent, after the
  # catcher has taken the answer and authorize has finished.
  for _ in $(seq 300); do [[ -s "$name.dom" ]] && break; sleep 0.1; done
  grep -q "Authorized: Token Inspector received the bank's answer" "$name.dom" \
    || fail "$name: the relay page did not say it relayed the answer" "$name.dom" "$name.dom.log"
}

bank good
through hybrid 0 --response-type "code id_token"
jq -e '.response.status == 200
  and .authorization.front_channel.id_token.signature.status == "valid"
  and ([.authorization.front_channel.id_token.findings[] | select(.severity == "error")] | length == 0)
  and any(.authorization.redirect[]; .[0] == "id_token")' hybrid.json >/dev/null \
  || fail "hybrid: the fragment's id_token checked and the code redeemed" hybrid.json
ok "hybrid: the fragment relayed by the page in Chromium, the id_token valid, the code redeemed"

through jarm 0 --response-mode fragment.jwt
jq -e '.response.status == 200 and .authorization.front_channel.jarm.signature.status == "valid"' \
  jarm.json >/dev/null || fail "jarm: the response JWT verified and read" jarm.json
ok "JARM in the fragment (fragment.jwt): relayed, verified, the code redeemed"

bank broken --fail wrong-c-hash
through broken 2 --response-type "code id_token"
jq -e '.error.kind == "redirect" and (.error.message | contains("c_hash"))
  and .authorization.front_channel.id_token.signature.status == "valid"' broken.json >/dev/null \
  || fail "a wrong c_hash stops the redemption" broken.json
ok "a wrong c_hash: relayed, then the code is not redeemed (exit 2), naming c_hash"

# The relay page's headers, and a favicon request is not the redirect.
port="$(free_port)"
"$BIN" authorize --issuer "$ISSUER" --client-id uk-tpp --key client.pem --alg PS256 \
  --redirect-uri "http://127.0.0.1:$port/cb" --scope "openid accounts" \
  --response-type "code id_token" --listen --listen-timeout 20 --json >headers.json 2>headers.err &
PIDS+=($!)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/favicon.ico" && break; sleep 0.1; done
curl -s -D relay.headers -o relay.html "http://127.0.0.1:$port/cb"
grep -qi "^content-security-policy: default-src 'none'; script-src 'sha256-" relay.headers \
  && grep -qi "^cache-control: no-store" relay.headers && grep -qi "^referrer-policy: no-referrer" relay.headers \
  || fail "the relay page's headers" relay.headers
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/favicon.ico")" == 404 ]] \
  || fail "/favicon.ico must be a 404, not the redirect"
ok "the relay page is served with a strict CSP (its script by hash), no-store, no-referrer; /favicon.ico is a 404"

echo "$PASSED passed, 0 failed"
