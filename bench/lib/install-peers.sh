#!/bin/sh
# Installs what `npm run bench` needs beyond the project, from the package registries:
#   wrk (the load generator) and the peer proxies squid and tinyproxy, from Debian;
#   mitmproxy from PyPI into a venv of its own (~/.cache/airlock/bench-peers/mitmproxy), so it
#   changes no other Python; smokescreen built with `go install` (Go modules from proxy.golang.org).
# Each step may fail on its own; the benchmark then reports that peer as skipped, with the command
# that installs it. Usage: sh bench/lib/install-peers.sh   (as root, or with sudo for apt-get)
set -u
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
MITM_VENV="$HOME/.cache/airlock/bench-peers/mitmproxy"

if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq || true
  for pkg in wrk squid tinyproxy; do
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" || echo "install-peers: $pkg not installed" >&2
  done
else
  echo "install-peers: no apt-get: install wrk, squid and tinyproxy with your package manager" >&2
fi
if [ ! -x "$MITM_VENV/bin/mitmdump" ]; then
  python3 -m venv "$MITM_VENV" && "$MITM_VENV/bin/pip" install -q mitmproxy || echo "install-peers: mitmproxy not installed" >&2
fi
if command -v go >/dev/null 2>&1; then
  go install github.com/stripe/smokescreen@latest || echo "install-peers: smokescreen did not build" >&2
else
  echo "install-peers: no Go toolchain (https://go.dev/dl), smokescreen skipped" >&2
fi
for p in wrk squid tinyproxy; do
  if command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ]; then echo "install-peers: $p ok"; fi
done
[ -x "$MITM_VENV/bin/mitmdump" ] && echo "install-peers: mitmproxy ok ($MITM_VENV)"
command -v go >/dev/null 2>&1 && [ -x "$(go env GOPATH)/bin/smokescreen" ] && echo "install-peers: smokescreen ok"
exit 0
