#!/bin/bash
# Install the Debian packages the workshop needs, only those missing.
# Usage: install-system-deps.sh [--test|--class]   (--test adds what the test suite needs, --class
# what `make class` needs: npm for JupyterHub's proxy)
# Not root and something missing: say what to run, exit 1, change nothing.
set -euo pipefail

packages=(iproute2 iptables nftables containernetworking-plugins graphviz librsvg2-bin curl iputils-ping
          netcat-openbsd dnsutils conntrack procps psmisc util-linux python3-venv busybox tcpdump bird2
          clang bpftool libbpf-dev)   # clang, bpftool, libbpf-dev: the eBPF service proxy (labkit/bpf)
# npm: JupyterHub's proxy. A Node.js that brings its own npm (NodeSource's nodejs) conflicts with
# Debian's npm package, so Debian's is only asked for when there is no npm at all.
npm_pkg=()
command -v npm >/dev/null 2>&1 || npm_pkg=(npm)
if [[ "${1:-}" == "--test" ]]; then
    packages+=(chromium tmux "${npm_pkg[@]}")   # npm: JupyterHub's proxy for the class test
fi
if [[ "${1:-}" == "--class" ]]; then
    packages+=("${npm_pkg[@]}")
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "kubenet-lab needs these Debian packages: ${missing[*]}" >&2
    echo "Run as root: sudo make ${MAKE_TARGET:-lab}   (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
