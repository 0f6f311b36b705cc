#!/usr/bin/env bash
# Build gvisor-echo (gVisor netstack responder on a TAP device) offline,
# against Debian's packaged Go and gVisor sources (GOPATH mode, no modules,
# no network). Idempotent: installs the apt packages only if missing.
set -euo pipefail

cd "$(dirname "$0")"

pkgs=()
for p in golang-go golang-gvisor-gvisor-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || pkgs+=("$p")
done
if ((${#pkgs[@]})); then
  if [[ $EUID -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
  "${SUDO[@]}" apt-get install -y "${pkgs[@]}"
fi

GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
  go build -o gvisor-echo main.go

echo "built $(pwd)/gvisor-echo ($(go version))"
