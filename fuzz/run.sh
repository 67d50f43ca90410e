#!/usr/bin/env bash
# Runs one fuzz target for a time: `fuzz/run.sh yaml 1800` (seconds). A panic, a hang
# over 10 s or an allocation over 2 GiB stops the run and leaves the input in
# fuzz/artifacts/<target>/. cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the
# stable toolchain take them.
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD/fuzz
target=$1 seconds=${2:-60}
shift 2 || true
[ -n "$(ls "$here/corpus/$target" 2>/dev/null)" ] || "$here/seed.sh" >/dev/null
dict=()
case $target in
  yaml) dict=(-dict=$here/dict/yaml.dict) ;;
  csv) dict=(-dict=$here/dict/csv.dict) ;;
  policy) dict=(-dict=$here/dict/policy.dict) ;;
  script) dict=(-dict=$here/dict/script.dict) ;;
esac
RUSTC_BOOTSTRAP=1 exec cargo fuzz run "$@" "$target" "$here/corpus/$target" -- \
  -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
  -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}"
