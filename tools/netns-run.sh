#!/usr/bin/env bash
# Runs a command inside a fresh, private network namespace made for end-to-end tests.
#
# Why: Chromium never gathers ICE candidates on 127.0.0.1; it uses the machine's interface
# addresses. Inside a namespace of our own, the only non-loopback address is one we made
# (10.77.0.1 on a veth), so every candidate, every packet and every port belongs to the test,
# and nothing leaves the machine.
#
#   usage: bash tools/netns-run.sh <command> [args...]
#   e.g.:  bash tools/netns-run.sh node --test --test-concurrency=1 tests/e2e/
#
# As root: unshare -n; inside: lo up, veth pair ve0/ve1 (10.77.0.1/24 on ve0), both up,
# default route via ve0; exports CHORUS_TEST_HOST=10.77.0.1.
# Not root (or unshare refused): runs the command on the host with CHORUS_TEST_HOST=127.0.0.1
# and a warning (WebRTC between pages may then use the host's real interfaces).
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

# Second stage: we are already inside the new namespace; set it up, then exec the command.
if [[ ${1:-} == --inside-netns ]]; then
  shift
  ip link set lo up
  ip link add ve0 type veth peer name ve1
  ip addr add 10.77.0.1/24 dev ve0
  ip link set ve0 up
  ip link set ve1 up
  # Without a default route, Chromium gathers no host candidates in pages without getUserMedia.
  ip route add default dev ve0
  export CHORUS_TEST_HOST=10.77.0.1
  export CHORUS_NETNS=1
  exec "$@"
fi

self=$(readlink -f "${BASH_SOURCE[0]}")

if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null && command -v ip >/dev/null; then
  if unshare -n true 2>/dev/null; then
    exec unshare -n bash "$self" --inside-netns "$@"
  fi
  echo "netns-run: warning: 'unshare -n' is not permitted here; running on the host network" >&2
else
  echo "netns-run: warning: not root (or unshare/ip missing); running on the host network" \
    "with CHORUS_TEST_HOST=127.0.0.1 (WebRTC may use the host's real interfaces)" >&2
fi
export CHORUS_TEST_HOST=127.0.0.1
exec "$@"
