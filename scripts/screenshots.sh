#!/usr/bin/env bash
# Launches the real Token Inspector window under Xvfb with an empty config folder (so it
# starts with the "Local sandbox" profile, as a new user sees it), takes a screenshot of
# each panel into assets/, and measures:
#   - time to first frame (the app prints it when TOKEN_INSPECTOR_FIRST_FRAME_LOG is set),
#   - idle CPU over 10 s (utime+stime from /proc/PID/stat),
#   - resident memory (VmRSS from /proc/PID/status).
# Usage: bash scripts/screenshots.sh            (debug build)
#        PROFILE=release bash scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for tool in xvfb-run:xvfb xauth:xauth xdotool:xdotool import:imagemagick; do
  command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ -f "$HOME/.cargo/env" ]; then . "$HOME/.cargo/env"; fi

PROFILE="${PROFILE:-debug}"
if [ "$PROFILE" = release ]; then
  cargo build --release --quiet
else
  cargo build --quiet
fi
BIN="$PWD/target/$PROFILE/token-inspector"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/config"   # empty: first launch
export XDG_DATA_HOME="$WORK/data"                  # no remembered window state
export XDG_RUNTIME_DIR="$WORK/xdg-rt"
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
export TOKEN_INSPECTOR_FIRST_FRAME_LOG=1
export BIN WORK
mkdir -p assets

# A token for the JWT panel (HS256 over a small claim set).
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
HEADER=$(printf '{"alg":"HS256","typ":"JWT","kid":"demo"}' | b64url)
NOW=$(date +%s)
PAYLOAD=$(printf '{"iss":"https://auth1.sandbox.mya.ozoneapi.io","sub":"202","aud":"token-inspector-local","iat":%s,"exp":%s,"scope":"accounts openid"}' "$NOW" $((NOW + 600)) | b64url)
SIG=$(printf '%s.%s' "$HEADER" "$PAYLOAD" | openssl dgst -sha256 -hmac "demo-secret" -binary | b64url)
export JWT="$HEADER.$PAYLOAD.$SIG"

run_session() {
  # Own kernel session keyring when keyctl exists, so the test key stays out of yours.
  if command -v keyctl >/dev/null; then keyctl session - bash "$@"; else bash "$@"; fi
}

cat >"$WORK/session.sh" <<'EOS'
set -euo pipefail
"$BIN" 2>"$WORK/stderr.log" &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; }
trap cleanup EXIT
# Wait for the window and the first launch (key, sandbox, discovery).
for _ in $(seq 1 100); do
  W=$(xdotool search --name "Token Inspector" 2>/dev/null | head -1 || true)
  [ -n "$W" ] && break
  sleep 0.2
done
[ -n "${W:-}" ] || { echo "no window"; cat "$WORK/stderr.log"; exit 1; }
for _ in $(seq 1 300); do
  [ -n "$(ls "$WORK/config/profiles" 2>/dev/null)" ] && grep -q "par" "$WORK"/config/profiles/* 2>/dev/null && break
  sleep 0.2
done
sleep 2
xdotool windowfocus --sync "$W"
xdotool windowmove "$W" 0 0 windowsize "$W" 1280 800
sleep 3   # let the resize frames settle before measuring idle

ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
T0=$(ticks); sleep 10; T1=$(ticks)
HZ=$(getconf CLK_TCK)
echo "idle_cpu_ticks=$((T1 - T0)) clk_tck=$HZ" >"$WORK/figures"
awk -v t=$((T1 - T0)) -v hz="$HZ" 'BEGIN { printf "idle_cpu_percent=%.2f\n", t * 100 / (10 * hz) }' >>"$WORK/figures"
awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s_mb=%.1f\n", tolower(substr($1, 1, length($1) - 1)), $2 / 1024 }' \
  "/proc/$PID/status" >>"$WORK/figures"
# The largest file-backed mappings (libLLVM is Mesa's llvmpipe: software GL under Xvfb).
awk '/^[0-9a-f]+-/ { name = $6 } /^Rss:/ { rss[name] += $2 }
     END { for (n in rss) if (n != "" && rss[n] > 4096) printf "rss_of %s=%.1f MB\n", n, rss[n] / 1024 }' \
  "/proc/$PID/smaps" | sort -t= -k2 -rn >>"$WORK/figures"

shot() { import -window root "$1"; }
# Tabs: Client, Request, Response, JWT (row at the top of the central area).
tab() { xdotool mousemove "$1" 17 click 1; sleep 1; }
tab 258; shot assets/screenshot-client.png
tab 315; sleep 0.5
xdotool mousemove 270 68 click 1     # Authorize (in-app approve at the sandbox)
sleep 4
shot assets/screenshot-request.png
xdotool key --window "$W" ctrl+Return  # Send
sleep 4
tab 383; shot assets/screenshot-response.png
T0=$(ticks); sleep 10; T1=$(ticks)
echo "response_panel_cpu_ticks=$((T1 - T0))" >>"$WORK/figures"
tab 440
xdotool mousemove 700 100 click 1
sleep 0.5
xdotool type --delay 2 "$JWT"
sleep 1
shot assets/screenshot-jwt.png
grep VmRSS "/proc/$PID/status" | awk '{ printf "rss_after_flow_mb=%.1f\n", $2 / 1024 }' >>"$WORK/figures"
EOS

xvfb-run -a -s "-screen 0 1280x800x24" bash -c "$(declare -f run_session); run_session '$WORK/session.sh'"

echo "build profile: $PROFILE"
grep -h "first frame" "$WORK/stderr.log" || echo "first frame: not logged"
cat "$WORK/figures"
ls -la assets/screenshot-*.png
