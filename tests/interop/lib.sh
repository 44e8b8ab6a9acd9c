# Shared by the interop scripts that drive token-inspector against the jose servers here:
# the binary, the npm packages, a work directory removed on exit (KEEP_WORK=1 keeps it),
# and ok/fail/check (tests/work.sh). Source it with NAME set; add a server's PID to PIDS.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for tool in node npm jq; do
  command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done
# shellcheck source=../work.sh
source "$HERE/../work.sh"
[[ -x "$BIN" ]] || { echo "no binary at $BIN (build it first: cargo build)" >&2; exit 2; }
if [[ ! -d "$HERE/node_modules/jose" ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi

fail() {
  echo "FAIL: $1" >&2
  shift
  for f in "$@"; do [[ -f "$f" ]] && { echo "--- $f" >&2; cat "$f" >&2; }; done
  [[ -f rs.log ]] && { echo "--- rs.log" >&2; cat rs.log >&2; }
  exit 1
}
check() { # check NAME FILE JQ-EXPR
  jq -e "$3" "$2" >/dev/null 2>&1 || fail "$1" "$2"
  ok "$1"
}
# Waits for a server started in the background to print "listening PORT"; sets RS.
wait_listening() {
  for _ in $(seq 100); do grep -q listening rs.out 2>/dev/null && break; sleep 0.1; done
  RS="http://127.0.0.1:$(awk '/listening/ {print $2}' rs.out)"
  [[ "$RS" != "http://127.0.0.1:" ]] || fail "the server did not start" rs.out
}
