#!/usr/bin/env bash
# Side-by-side tokenizer throughput (see tokenizer_compare.mjs): Switchyard vs tiktoken (WASM),
# tiktoken-node (native tiktoken-rs) and llama3-tokenizer-js, same text, one thread.
#   bench/tokenizer_compare.sh [build-dir] [extra args for tokenizer_compare.mjs]
# tiktoken-node is an optional dependency in tools/vocab/package.json, installed by
# scripts/bootstrap.sh; where it is missing (no prebuilt binary for the platform), the
# comparison runs without it and says so.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="$(cd "${1:-$ROOT/build}" && pwd)"
shift || true
BENCH="$BUILD/bench/tokenizer_bench"
if [ ! -x "$BENCH" ]; then
  echo "tokenizer_compare: $BENCH missing; build it: ninja -C $BUILD tokenizer_bench" >&2
  exit 1
fi
TIKTOKEN_NODE="$ROOT/tools/vocab/node_modules/tiktoken-node"
if [ ! -d "$TIKTOKEN_NODE" ]; then
  echo "tokenizer_compare: tiktoken-node is not installed (run scripts/bootstrap.sh); comparing without it"
fi
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
exec node "$ROOT/bench/tokenizer_compare.mjs" --bench "$BENCH" --tiktoken-node "$TIKTOKEN_NODE" "$@"
