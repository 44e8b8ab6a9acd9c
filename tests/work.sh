# Shared by the test scripts: the binary under test, a work directory (the current one,
# removed on exit; KEEP_WORK=1 keeps it and prints where), the background processes whose
# PIDs are added to PIDS stopped on exit, TOKEN_INSPECTOR_CONFIG_DIR inside the work
# directory, and ok (counted in PASSED). Source it with NAME set (the work directory's).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/target/debug/token-inspector}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/token-inspector-$NAME.XXXXXX")"
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
cd "$WORK"
export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/config"
PASSED=0
ok() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
