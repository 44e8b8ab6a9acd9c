#!/usr/bin/env bash
# The real app's accessibility tree, read the way a screen reader reads it: the window
# under Xvfb, the AT-SPI bus on a private D-Bus session (told an assistive technology is
# on, so AccessKit exposes the tree), and tests/a11y/probe.py (python3-pyatspi) finding the
# first-launch path's controls by their accessible names: the panels, Authorize, Send,
# Copy curl, the theme switch. Then with real key presses (xdotool): Tab's focus must be
# visible (the pixels around the focused Authorize change: a ring), Ctrl+= must enlarge
# it; and a second launch at the system scale 2 must show it twice as large.
#
#   bash tests/a11y/atspi.sh          (BIN=... to test another binary)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${BIN:-$ROOT/target/debug/token-inspector}"
for tool in xvfb-run dbus-run-session /usr/libexec/at-spi-bus-launcher xdotool import; do
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
  "x-fapi-interaction-id" "☀ Light" "🌙 Dark" >"$WORK/probe1.out" || rc=$?
cat "$WORK/probe1.out"
kill "$APP" 2>/dev/null; wait "$APP" 2>/dev/null
# The system's scale: the same window launched at twice the scale (winit reads it as the
# X11 desktop's) shows Authorize twice as large.
WINIT_X11_SCALE_FACTOR=2 "$BIN" >"$WORK/app2.log" 2>&1 &
APP=$!
/usr/bin/python3 "$HERE/probe.py" --size-of Authorize >"$WORK/probe2.out" || rc=$?
kill "$APP" 2>/dev/null; wait "$APP" 2>/dev/null
read -r w1 h1 < <(grep -o "^zoom: Authorize [0-9]*x[0-9]*" "$WORK/probe1.out" | grep -o "[0-9]*x[0-9]*" | tr x " ")
read -r _ w2 h2 < "$WORK/probe2.out" || true
echo "scale: Authorize ${w1:-?}x${h1:-?} at scale 1, ${w2:-?}x${h2:-?} at scale 2"
if ! [[ -n "${w1:-}" && -n "${w2:-}" ]] || (( w2 * 10 < w1 * 18 || h2 * 10 < h1 * 18 )); then
  echo "scale: the window does not follow the system's scale"; rc=1
fi
exit "$rc"
EOS
run() { if command -v keyctl >/dev/null; then keyctl session - "$@"; else "$@"; fi; }
if run xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash "$WORK/session.sh" \
  >"$WORK/probe.out" 2>"$WORK/probe.err"; then
  grep '^found:\|controls, \|^focus:\|^zoom:\|^scale:' "$WORK/probe.out"
  [[ -z "${A11Y_LIST:-}" ]] || grep '^  control:' "$WORK/probe.out"
  echo "ok: the window's accessibility tree names the first-launch path's controls, and every control of every panel; Tab's focus is ringed; Ctrl+= and the system's scale enlarge the window's text"
else
  cat "$WORK/probe.out" "$WORK/app.log" >&2
  echo "FAIL: the window's accessibility tree, its visible focus or its scaling (see above)" >&2
  exit 1
fi
