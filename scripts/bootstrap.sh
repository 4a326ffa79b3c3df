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

# Pinned npm packages (official SDK clients for the end-to-end tests).
E2E="$ROOT/tests/e2e"
if [ -f "$E2E/package.json" ]; then
  stamp="$E2E/node_modules/.switchyard-stamp"
  want="$(sha256sum "$E2E/package.json" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "bootstrap: installing pinned npm packages in tests/e2e"
    (cd "$E2E" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
  fi
fi
