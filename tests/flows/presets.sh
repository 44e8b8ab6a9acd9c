#!/usr/bin/env bash
# The repository's example flows (flows/*.toml), one per ecosystem preset, run against
# the embedded sandbox with `token-inspector run`: each profile is made from its preset
# (`profile new --preset`), pointed at a sandbox, its consent endpoint filled in where
# the ecosystem creates the consent first; the client's key (and Brazil's decryption key)
# from files. JUnit for each lands in $WORK/junit/.
#
#   bash tests/flows/presets.sh        (BIN=... to test another binary)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../work.sh
NAME=flows source "$HERE/../work.sh"
mkdir -p junit
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$BIN" keygen --type rsa2048 --out tpp.pem --jwks-out tpp.jwks.json >keygen.log 2>&1
"$BIN" keygen --type rsa2048 --out enc.pem --jwks-out enc.jwks.json >>keygen.log 2>&1
jq -s '{keys: [(.[0].keys[0] + {use: "sig"}), (.[1].keys[0] + {use: "enc"} | del(.alg))]}' \
  tpp.jwks.json enc.jwks.json >registered.jwks.json

# flow PRESET PROFILE FLOW CONSENT-PATH [mock-server flags] -- [run flags]
flow() {
  local preset=$1 profile=$2 file=$3 consent=$4
  shift 4
  local server=() run=()
  while [[ $# -gt 0 && "$1" != "--" ]]; do server+=("$1"); shift; done
  [[ $# -gt 0 ]] && shift
  run=("$@")
  local port issuer
  port="$(free_port)"
  issuer="http://127.0.0.1:$port"
  "$BIN" mock-server --port "$port" --client "tpp=registered.jwks.json" "${server[@]}" \
    >"$profile.bank.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do curl -sf "$issuer/jwks" >/dev/null 2>&1 && break; sleep 0.1; done
  "$BIN" profile new "$profile" --preset "$preset" --issuer "$issuer" --client-id tpp \
    --redirect-uri "$issuer/callback" >"$profile.new.log" 2>&1
  "$BIN" profile show "$profile" >"$profile.toml"
  if [[ -n "$consent" ]]; then
    sed -i "s|^\[endpoints\]$|[endpoints]\nconsent = \"$issuer$consent\"|" "$profile.toml"
  fi
  # PayNet's data consumer id: the sandbox's is the client_id.
  sed -i 's|^dc_id = ""$|dc_id = "tpp"|' "$profile.toml"
  "$BIN" profile import "$profile.toml" --force >>"$profile.new.log" 2>&1
  local rc=0
  "$BIN" run "$ROOT/flows/$file" --key tpp.pem --junit "junit/$profile.xml" "${run[@]}" \
    >"$profile.out" 2>"$profile.err" || rc=$?
  if [[ "$rc" != 0 ]]; then
    echo "FAIL: $file exited $rc" >&2
    cat "$profile.out" "$profile.err" "$profile.bank.log" >&2
    exit 1
  fi
  echo "ok: $file ($(tail -1 "$profile.out"))"
  PASSED=$((PASSED + 1))
}

flow fapi2-generic fapi2 fapi2-sandbox.toml ""
flow ofm-paynet-sandbox malaysia malaysia-sandbox.toml "" -- --profile malaysia
flow uk-openbanking uk uk-sandbox.toml /open-banking/v3.1/aisp/account-access-consents --lenient-aud
flow br-openfinance br brazil-sandbox.toml /open-banking/consents/v3/consents --lenient-aud --encrypt-id-tokens -- --decrypt-key enc.pem
flow uae-nebras uae uae-sandbox.toml ""
echo "$PASSED passed, 0 failed"
