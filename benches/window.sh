#!/usr/bin/env bash
# The window, side by side with its floor: the release app and an empty eframe window
# with the same renderer and features (examples/empty_window.rs), launched in turn under
# Xvfb (1280x800, Mesa llvmpipe), RUNS times each (default 5). For each launch: time to
# the first frame (both print it), resident memory after 5 s idle (VmRSS), idle CPU over
# the next 10 s (utime+stime ticks). Medians at the end; nothing here is asserted.
#   cargo build --release --bin token-inspector --examples && bash benches/window.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
APP="$PWD/target/release/token-inspector"
EMPTY="$PWD/target/release/examples/empty_window"
for b in "$APP" "$EMPTY"; do [ -x "$b" ] || { echo "build first: cargo build --release --bin token-inspector --examples" >&2; exit 2; }; done
command -v xvfb-run >/dev/null || { apt-get update -qq; apt-get install -y -qq --no-install-recommends xvfb xauth >/dev/null; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export WORK APP EMPTY RUNS
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  set -euo pipefail
  export XDG_RUNTIME_DIR="$WORK/rt"; mkdir -p -m 700 "$XDG_RUNTIME_DIR"
  export TOKEN_INSPECTOR_FIRST_FRAME_LOG=1
  measure() {  # name binary
    export TOKEN_INSPECTOR_CONFIG_DIR="$WORK/config-$1"   # the app: the Local sandbox profile
    export XDG_DATA_HOME="$WORK/data-$1"
    "$2" 2>"$WORK/err" & local pid=$!
    for _ in $(seq 1 100); do grep -q "first frame" "$WORK/err" 2>/dev/null && break; sleep 0.05; done
    sleep 5
    local ms rss t0 t1
    ms=$(grep -o "first frame after [0-9]*" "$WORK/err" | grep -o "[0-9]*$")
    rss=$(awk "/VmRSS/{printf \"%.1f\", \$2/1024}" /proc/$pid/status)
    t0=$(awk "{print \$14+\$15}" /proc/$pid/stat); sleep 10; t1=$(awk "{print \$14+\$15}" /proc/$pid/stat)
    kill $pid; wait $pid 2>/dev/null || true
    echo "$1 $ms $rss $((t1 - t0))" | tee -a "$WORK/results"
  }
  for i in $(seq 1 "$RUNS"); do measure app "$APP"; measure empty "$EMPTY"; done
'
echo
echo "| | first frame (median) | idle RSS (median) | idle CPU in 10 s (median) |"
echo "|---|---|---|---|"
for name in app empty; do
  med() { grep "^$name " "$WORK/results" | awk "{print \$$1}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  echo "| $name | $(med 2) ms | $(med 3) MB | $(med 4) ticks |"
  eval "${name}_ms=$(med 2) ${name}_mb=$(med 3)"
done
echo
awk -v a="$app_ms" -v e="$empty_ms" -v am="$app_mb" -v em="$empty_mb" \
  'BEGIN { printf "first frame: %.2fx the empty window (aim: at most 1.10x); idle memory: %+.1f MB (aim: at most +8)\n", a / e, am - em }'
