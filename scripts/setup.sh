#!/usr/bin/env bash
# Installs what circuits needs on a Debian machine (idempotent): OpenBLAS, ZeroMQ, HDF5, zlib and
# the hdf5 command-line tools. Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail
need=()
for p in libopenblas-dev libzmq3-dev libhdf5-dev zlib1g-dev pkg-config hdf5-tools; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "setup: installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
