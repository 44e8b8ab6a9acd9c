#!/usr/bin/env bash
# Interop test: token-inspector's signed payment requests against an independent payments
# server (payments-rs.mjs: written from the UK and UAE pages with panva's `jose`, not from
# token-inspector's code). UK: x-jws-signature for v3.1.2 (b64 false) and v4.0 (b64
# absent), the ASPSP's own x-jws-signature verified, a tampered answer exits 1. UAE: the
# body a signed JWT with personal data encrypted to the LFI's key (both key managements),
# the idempotency key reused on a retry, the LFI's signed answer verified, a tampered
# answer exits 1, a bad idempotency key refused before anything is sent.
#
#   bash tests/interop/payments.sh          (BIN=... to test another binary)
NAME=payments source "$(dirname "$0")/lib.sh"
expect_rc() { # expect_rc NAME FILE RC
  [[ "$(cat "$2.rc")" == "$3" ]] || fail "$1: exited $(cat "$2.rc"), expected $3" "$2" "$2.err"
}

"$BIN" keygen --type rsa2048 --out client.pem --jwks-out client.jwks.json >keygen.log 2>&1

export ACCESS_TOKEN="payments-at-$RANDOM$RANDOM"
PORT=0 CLIENT_JWKS=client.jwks.json OB_ISS=0015800001041REAAY/ssa-1 CLIENT_ID=client-uae \
  ISSUER=https://lfi.example node "$HERE/payments-rs.mjs" >rs.out 2>rs.log &
PIDS+=($!)
wait_listening

call() { # call OUT URL [extra flags]
  local out=$1 url=$2
  shift 2
  local rc=0
  TOKEN_INSPECTOR_ACCESS_TOKEN="$ACCESS_TOKEN" "$BIN" call "$url" --key client.pem --alg PS256 \
    --response-jwks "$RS/jwks" --json "$@" >"$out" 2>"$out.err" || rc=$?
  echo "$rc" >"$out.rc"
}

# UK Open Banking: a domestic payment signed with x-jws-signature.
cat >uk-payment.json <<'JSON'
{"Data":{"ConsentId":"sdp-1","Initiation":{"InstructionIdentification":"ACME412","EndToEndIdentification":"FRESCO.21302.GFX.20","InstructedAmount":{"Amount":"165.88","Currency":"GBP"},"CreditorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"08080021325698","Name":"ACME Inc"}}},"Risk":{}}
JSON
UK=(--data @uk-payment.json --jws-iss 0015800001041REAAY/ssa-1)
call uk-312.json "$RS/open-banking/v3.1/pisp/domestic-payments" "${UK[@]}" --x-jws-signature 3.1.2
expect_rc "UK v3.1.2" uk-312.json 0
check "UK v3.1.2: b64 false named in crit, accepted, the ASPSP's x-jws-signature valid" uk-312.json \
  '.response.status == 201 and .signed_message.header.b64 == false
   and (.signed_message.header.crit | index("b64")) != null
   and .response.answer_signature.signature.status == "valid"
   and any(.findings[]; .code == "uk.jws_signature.valid")'
call uk-40.json "$RS/open-banking/v4.0/pisp/domestic-payments" "${UK[@]}" --x-jws-signature 4.0
expect_rc "UK v4.0" uk-40.json 0
check "UK v4.0: no b64, accepted, the answer's signature valid" uk-40.json \
  '.response.status == 201 and (.signed_message.header | has("b64") | not)
   and .response.answer_signature.signature.status == "valid"'
call uk-wrong.json "$RS/open-banking/v4.0/pisp/domestic-payments" "${UK[@]}" --x-jws-signature 3.1.2
expect_rc "UK v3.1.2 style sent to v4.0" uk-wrong.json 1
check "a v3.1.2 signature sent to a v4.0 ASPSP is refused naming b64" uk-wrong.json \
  '.response.status == 400 and (.response.body.Message | contains("b64"))'
call uk-tampered.json "$RS/tampered/open-banking/v4.0/pisp/domestic-payments" "${UK[@]}" --x-jws-signature 4.0
expect_rc "UK tampered answer" uk-tampered.json 1
check "an answer changed after the ASPSP signed it exits 1, uk.jws_signature.invalid" uk-tampered.json \
  '.response.answer_signature.signature.status == "invalid"
   and any(.findings[]; .code == "uk.jws_signature.invalid" and .severity == "error")'

# UAE Open Finance: a payment as a signed JWT, its personal data encrypted to the LFI.
cat >uae-payment.json <<'JSON'
{"Data":{"ConsentId":"b8f42378-10ac-46a1-8d20-4e020484216d","Instruction":{"Amount":{"Amount":"100.00","Currency":"AED"}},"PersonalIdentifiableInformation":{"Initiation":{"CreditorAccount":{"SchemeName":"IBAN","Identification":"AE070331234567890123456","Name":{"en":"Ivan David England"}}}},"PaymentPurposeCode":"ACM"}}
JSON
UAE=(--data @uae-payment.json --signed-body --client-id client-uae --issuer https://lfi.example
  --encryption-jwks "$RS/jwks" --x-fapi-customer-ip-address 203.0.113.7 --x-fapi-auth-date now)
call uae-1.json "$RS/open-finance/payment/v2.2/payments" "${UAE[@]}" --x-idempotency-key pay-0001
expect_rc "UAE payment" uae-1.json 0
check "UAE: signed body accepted, PII opened by the LFI (RSA-OAEP-256), its signed answer valid" uae-1.json \
  '.response.status == 201 and .response.answer_signature.signature.status == "valid"
   and .response.answer_signature.claims.message.Data.CreditorName == "Ivan David England"
   and .response.answer_signature.claims.message.Data.PiiAlg == "RSA-OAEP-256"
   and (.signed_message.claims.message.Data.PersonalIdentifiableInformation | split(".") | length == 5)
   and any(.findings[]; .code == "uae.pii.key_management")'
FIRST_ID="$(jq -r .response.answer_signature.claims.message.Data.PaymentId uae-1.json)"
call uae-retry.json "$RS/open-finance/payment/v2.2/payments" "${UAE[@]}" --x-idempotency-key pay-0001 --pii-alg RSA-OAEP
expect_rc "UAE retry" uae-retry.json 0
check "UAE: a retry with the same idempotency key is the same payment; RSA-OAEP accepted too" uae-retry.json \
  ".response.answer_signature.claims.message.Data.PaymentId == \"$FIRST_ID\"
   and .response.answer_signature.claims.message.Data.PiiAlg == \"RSA-OAEP\""
call uae-tampered.json "$RS/tampered/open-finance/payment/v2.2/payments" "${UAE[@]}"
expect_rc "UAE tampered answer" uae-tampered.json 1
check "UAE: an answer changed after the LFI signed it exits 1, uae.signed_answer.invalid" uae-tampered.json \
  '.response.answer_signature.signature.status == "invalid"
   and any(.findings[]; .code == "uae.signed_answer.invalid")'
call uae-key.json "$RS/open-finance/payment/v2.2/payments" "${UAE[@]}" \
  --x-idempotency-key "$(printf 'k%.0s' $(seq 41))"
expect_rc "UAE idempotency key of 41 characters" uae-key.json 2
check "an idempotency key over 40 characters is refused before sending, as a JSON error" uae-key.json \
  '.error.kind == "input" and (.error.message | contains("x-idempotency-key"))'
grep -c "refused" rs.log | grep -qx 1 || fail "the server saw a request it should not have (only the b64 one is refused)" rs.log

echo "$PASSED passed, 0 failed"
