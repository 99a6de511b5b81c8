#!/usr/bin/env bash
# Brings a Debian 12 machine to the point where `npm start` and `npm test` work, then builds.
# Idempotent and fast when nothing changed:
#   1. Debian packages: installed with apt-get only when dpkg says one is missing
#      (`apt-get update` runs only then). Not root and something missing: print and fail.
#   2. node_modules: `npm ci` only when package-lock.json differs from the one last installed.
#   3. `bash tools/build.sh all` (incremental).
set -euo pipefail
cd "$(dirname "$0")/.."

# Build: cmake g++ make emscripten nlohmann-json3-dev catch2 (binaryen and node-acorn come with
# emscripten); clang-14 + libclang-rt-14-dev for the libFuzzer target (the sanitizer and fuzzer
# runtimes are only a Recommends of clang, so they are named).
# Tests: chromium (+ fonts so pages render text), iproute2 + util-linux (ip, unshare for the e2e
# network namespace), iptables (the ICE-restart test cuts UDP inside that namespace), git,
# ca-certificates (npm over TLS), libopus-dev + pkg-config (the Opus interop test builds
# tools/opus/opus-pipe.c against Debian's native libopus), redis-server (scale-out tests and
# the load bench start their own on a private socket) and coturn (the TURN relay test starts
# its own in the test namespace), janus (the SFU/MCU tests start their own: tools/janus/; the
# packages' own services are never used).
packages=(
  cmake g++ make git ca-certificates
  emscripten nlohmann-json3-dev catch2 clang-14 libclang-rt-14-dev
  chromium fonts-liberation
  iproute2 util-linux procps iptables
  libopus-dev pkg-config
  redis-server coturn janus
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "tools/setup.sh: missing Debian packages: ${missing[*]}" >&2
    echo "install them as root:  apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "tools/setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if [[ " ${missing[*]} " == *" chromium "* ]]; then
    # Installed without recommends: check once that it really renders a page headless.
    profile=$(mktemp -d)
    dom=$(timeout 60 /usr/lib/chromium/chromium --headless=new --no-sandbox --disable-gpu \
      --no-first-run --disable-background-networking --disable-component-update --disable-sync \
      --user-data-dir="$profile" --dump-dom 'data:text/html,<p>chorus-ok</p>' 2>/dev/null || true)
    rm -rf "$profile"
    if [[ $dom != *chorus-ok* ]]; then
      echo "tools/setup.sh: chromium was installed but does not run headless" >&2
      exit 1
    fi
  fi
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "tools/setup.sh: Node.js >= 20.16 with npm is required (not installed)" >&2
  exit 1
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=16)?0:1)'; then
  echo "tools/setup.sh: Node.js >= 20.16 is required, found $(node --version)" >&2
  exit 1
fi

# npm ci wipes node_modules, so the stamp lives inside it: a fresh or changed tree reinstalls.
stamp=node_modules/.chorus-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "tools/setup.sh: npm ci"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

bash tools/build.sh all
