#!/usr/bin/env bash
# Interop test: token-inspector's signed data calls against an independent PayNet-style
# resource server (paynet-rs.mjs: written from PayNet's pages with panva's `jose`, not
# from the sandbox's code). Checks both x-signature formats, the three layers verified and
# opened, cursor pagination, a tampered hub layer and a signature for another consumer.
#
#   bash tests/interop/paynet.sh          (BIN=... to test another binary)
NAME=paynet source "$(dirname "$0")/lib.sh"

# The data consumer: a PS256 signing key and an RSA encryption key, both registered.
"$BIN" keygen --type rsa2048 --out dc.pem --jwks-out dc.jwks.json >keygen.log 2>&1
"$BIN" keygen --type rsa2048 --out enc.pem --jwks-out enc.jwks.json >>keygen.log 2>&1
jq -s '{keys: [(.[0].keys[0] + {use: "sig"}), (.[1].keys[0] + {use: "enc"} | del(.alg))]}' \
  dc.jwks.json enc.jwks.json >client.jwks.json

export ACCESS_TOKEN="paynet-at-$RANDOM$RANDOM"
PORT=0 CLIENT_JWKS=client.jwks.json DC_ID=dc-interop DP_ID=dp-interop \
  node "$HERE/paynet-rs.mjs" >rs.out 2>rs.log &
PIDS+=($!)
wait_listening

call() { # call OUT URL [extra flags]
  local out=$1 url=$2
  shift 2
  local rc=0
  TOKEN_INSPECTOR_ACCESS_TOKEN="$ACCESS_TOKEN" "$BIN" call "$url" --key dc.pem --alg PS256 \
    --dc-id "${DC:-dc-interop}" --dp-id dp-interop --decrypt-key enc.pem \
    --response-jwks "$RS/jwks" --json "$@" >"$out" 2>"$out.err" || rc=$?
  echo "$rc" >"$out.rc"
}

for format in compact detached; do
  call "balances-$format.json" "$RS/v1/accounts/acc-1/balances" --x-signature "$format"
  [[ "$(cat "balances-$format.json.rc")" == 0 ]] \
    || fail "call --x-signature $format exited $(cat "balances-$format.json.rc")" "balances-$format.json" "balances-$format.json.err"
  ok "call --x-signature $format exited 0"
  check "$format: the three layers verified, innermost balances in the body" "balances-$format.json" \
    '.response.verified and ([.response.layers[].verdict] == ["valid","valid","valid"])
     and .response.body.data.balances[0].amount == "1234.56"'
done

call tx1.json "$RS/v1/accounts/acc-1/transactions?page_size=2" --x-signature compact
check "transactions page 1: two items and a cursor (qpm signed)" tx1.json \
  '.response.verified and (.response.body.data.transactions | length == 2)
   and .response.body.data.next_page_params == "2"'
NEXT="$(jq -r .response.body.data.next_page_params tx1.json)"
call tx2.json "$RS/v1/accounts/acc-1/transactions?page_size=2&next_page_params=$NEXT" --x-signature compact
check "transactions page 2 with the cursor" tx2.json \
  '.response.verified and .response.body.data.transactions[0].transaction_id == "t-3"'

call tampered.json "$RS/tampered/v1/accounts/acc-1/balances" --x-signature compact
[[ "$(cat tampered.json.rc)" == 1 ]] || fail "a tampered hub layer must exit 1" tampered.json tampered.json.err
check "a tampered hub layer exits 1, named, data unverified" tampered.json \
  '(.response.verified | not) and .response.layers[0].verdict == "invalid"
   and any(.findings[]; .code == "layers.invalid" and (.message | contains("hub")))'

DC=dc-someone-else call other.json "$RS/v1/accounts/acc-1/balances" --x-signature compact
[[ "$(cat other.json.rc)" == 1 ]] || fail "a signature for another consumer must be refused" other.json other.json.err
check "the server refuses another consumer's signature, naming the claim" other.json \
  '.response.status == 401 and (.response.body.error_description | contains("iss"))'

echo "$PASSED passed, 0 failed"
