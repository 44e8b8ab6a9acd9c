#!/usr/bin/env bash
# The real app's accessibility tree, read the way a screen reader reads it: the window
# under Xvfb, the AT-SPI bus on a private D-Bus session (told an assistive technology is
# on, so AccessKit exposes the tree), and tests/a11y/probe.py (python3-pyatspi) finding the
# first-launch path's controls by their accessible names: the panels, Authorize, Send,
# Copy curl, the theme switch.
#
#   bash tests/a11y/atspi.sh          (BIN=... to test another binary)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${BIN:-$ROOT/target/debug/token-inspector}"
for tool in xvfb-run dbus-run-session /usr/libexec/at-spi-bus-launcher; do
  command -v "$tool" >/dev/null || [[ -x "$tool" ]] || { echo "missing: $tool (scripts/install-deps)" >&2; exit 2; }
done
WORK="$(mktemp -d "${TMPDIR:-/tmp}/token-inspector-a11y.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
export WORK BIN HERE
cat >"$WORK/session.sh" <<'EOS'
set -u
export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/cfg" XDG_DATA_HOME="$WORK/data" XDG_RUNTIME_DIR="$WORK/rt"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
/usr/libexec/at-spi-bus-launcher --launch-immediately >"$WORK/bus.log" 2>&1 &
for _ in $(seq 50); do
  dbus-send --session --print-reply --dest=org.a11y.Bus /org/a11y/bus org.a11y.Bus.GetAddress >/dev/null 2>&1 && break
  sleep 0.1
done
for property in IsEnabled ScreenReaderEnabled; do
  dbus-send --session --print-reply --dest=org.a11y.Bus /org/a11y/bus \
    org.freedesktop.DBus.Properties.Set string:org.a11y.Status "string:$property" variant:boolean:true >/dev/null
done
"$BIN" >"$WORK/app.log" 2>&1 &
APP=$!
rc=0
/usr/bin/python3 "$HERE/probe.py" Client Request Response JWT Flows Authorize Send "Copy curl" \
  "Paste redirect" "New verifier" "New interaction id" "code_verifier (PKCE)" \
  "x-fapi-interaction-id" "☀ Light" "🌙 Dark" || rc=$?
kill "$APP" 2>/dev/null || true
exit "$rc"
EOS
run() { if command -v keyctl >/dev/null; then keyctl session - "$@"; else "$@"; fi; }
if run xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "$WORK/session.sh" \
  >"$WORK/probe.out" 2>"$WORK/probe.err"; then
  grep '^found:\|controls, ' "$WORK/probe.out"
  echo "ok: the window's accessibility tree names the first-launch path's controls, and every control of every panel"
else
  cat "$WORK/probe.out" "$WORK/app.log" >&2
  echo "FAIL: a control on the first-launch path has no accessible name in the AT-SPI tree" >&2
  exit 1
fi
