#!/usr/bin/env bash
# Installs what `cargo xtask` needs from Debian's packages (it runs this
# itself, as root, when something is missing):
#   qemu  qemu-system-aarch64 9 or newer (bookworm has 7.2, so on Debian 12
#         it comes from bookworm-backports)
#   gdb   gdb-multiarch, for `cargo xtask run --gdb`
set -euo pipefail

have_qemu() {
    local v
    v=$(qemu-system-aarch64 --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p' | head -1)
    [ -n "$v" ] && [ "$v" -ge 9 ]
}

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

case "${1:-qemu}" in
qemu)
    have_qemu && exit 0
    if grep -q 'VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
        echo "deb http://deb.debian.org/debian bookworm-backports main" | $SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-arm ipxe-qemu
    else
        $SUDO apt-get update -qq
        $SUDO apt-get install -y -qq --no-install-recommends qemu-system-arm ipxe-qemu
    fi
    have_qemu || { echo "install-packages: still no qemu-system-aarch64 9 or newer" >&2; exit 1; }
    qemu-system-aarch64 --version | head -1
    ;;
gdb)
    command -v gdb-multiarch >/dev/null && exit 0
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends gdb-multiarch
    gdb-multiarch --version | head -1
    ;;
*)
    echo "usage: install-packages.sh qemu|gdb" >&2
    exit 2
    ;;
esac
