#!/bin/sh
# Installs the peer proxies `npm run bench` compares Airlock with, from their package registries:
# Debian's tinyproxy and mitmproxy (pip as a fallback for mitmproxy), and smokescreen with
# `go install`. Each step may fail on its own; the benchmark reports a missing peer as missing.
# Usage: sh bench/lib/install-peers.sh   (as root, or with sudo for apt-get)
set -u
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"

if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tinyproxy || echo "install-peers: tinyproxy not installed" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mitmproxy || echo "install-peers: mitmproxy not available from apt" >&2
fi
if ! command -v mitmdump >/dev/null 2>&1; then
  python3 -m pip install --user mitmproxy || echo "install-peers: mitmproxy not installed" >&2
fi
if command -v go >/dev/null 2>&1; then
  go install github.com/stripe/smokescreen@latest || echo "install-peers: smokescreen did not build" >&2
else
  echo "install-peers: no Go toolchain, smokescreen skipped" >&2
fi
for p in tinyproxy mitmdump; do command -v "$p" >/dev/null 2>&1 && echo "install-peers: $p ok"; done
[ -x "$(go env GOPATH 2>/dev/null)/bin/smokescreen" ] && echo "install-peers: smokescreen ok"
exit 0
