#!/usr/bin/env bash
# Side-by-side tokenizer throughput (see tokenizer_compare.mjs): Switchyard vs tiktoken (WASM),
# tiktoken-node (native tiktoken-rs) and llama3-tokenizer-js, same text, one thread.
#   bench/tokenizer_compare.sh [build-dir] [extra args for tokenizer_compare.mjs]
# tiktoken-node is installed from npm into <build-dir>/tokenizer-compare (not the repo); if the
# install fails (offline), the comparison runs without it and says so.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
shift || true
BENCH="$BUILD/bench/tokenizer_bench"
if [ ! -x "$BENCH" ]; then
  echo "tokenizer_compare: $BENCH missing; build it: ninja -C $BUILD tokenizer_bench" >&2
  exit 1
fi
CACHE="$BUILD/tokenizer-compare"
TIKTOKEN_NODE="$CACHE/node_modules/tiktoken-node"
if [ ! -d "$TIKTOKEN_NODE" ]; then
  mkdir -p "$CACHE"
  if ! (cd "$CACHE" && npm install --no-save --no-audit --no-fund --silent tiktoken-node@0.0.7 >/dev/null 2>&1); then
    echo "tokenizer_compare: npm could not install tiktoken-node (offline?); comparing without it"
  fi
fi
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
exec node "$ROOT/bench/tokenizer_compare.mjs" --bench "$BENCH" --tiktoken-node "$TIKTOKEN_NODE" "$@"
