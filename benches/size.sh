#!/usr/bin/env bash
# The release binary's size, and what makes it up: builds the release binary (the
# shipped profile, or another one given as CARGO_PROFILE_RELEASE_* variables, in its own
# target folder so the shipped build is left alone), prints its stripped size and, with
# BLOAT=1, `cargo bloat --crates` of an unstripped copy.
#   bash benches/size.sh
#   CARGO_PROFILE_RELEASE_OPT_LEVEL=3 TARGET=/tmp/size-o3 bash benches/size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target="${TARGET:-target}"
CARGO_TARGET_DIR="$target" cargo build --release --locked --bin token-inspector --quiet
bin="$target/release/token-inspector"
stripped="$(mktemp)"
trap 'rm -f "$stripped"' EXIT
strip -o "$stripped" "$bin"
echo "stripped: $(stat -c %s "$stripped") bytes ($(numfmt --to=si "$(stat -c %s "$stripped")")B)"
size -A "$bin" | sort -k2 -n | tail -6
if [ "${BLOAT:-0}" = 1 ]; then
  command -v cargo-bloat >/dev/null || cargo install cargo-bloat --locked
  CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_STRIP=false \
    cargo bloat --release --locked --bin token-inspector --crates -n 30
fi
