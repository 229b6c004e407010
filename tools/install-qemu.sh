#!/usr/bin/env bash
# Installs qemu-system-aarch64 9 or newer. On Debian bookworm it comes from
# bookworm-backports (bookworm itself has 7.2, which lacks what we need).
set -euo pipefail

have_qemu() {
    local v
    v=$(qemu-system-aarch64 --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -1)
    [ -n "$v" ] && [ "$v" -ge 9 ]
}

if have_qemu; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
    echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq -t bookworm-backports qemu-system-arm
else
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq qemu-system-arm
fi
have_qemu || { echo "install-qemu: still no qemu-system-aarch64 9 or newer" >&2; exit 1; }
qemu-system-aarch64 --version | head -1
