#!/usr/bin/env bash
# Checks deploy/image/Dockerfile's runtime stage against a release binary: every shared library
# the binary names (readelf NEEDED) must come from a Debian package the runtime stage installs
# (RUNTIME_PACKAGES), or be part of the Swift runtime, which the image links statically
# (--static-swift-stdlib in the build stage). There is no Docker engine here, so the image itself
# is not built; this is what can be checked without one.
#
#   scripts/check_image_libs.sh [BINARY]     (default .build/release/circuits)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-.build/release/circuits}
DOCKERFILE=deploy/image/Dockerfile
[ -x "$BIN" ] || { echo "check_image_libs: no binary at $BIN (swift build -c release --product circuits)"; exit 2; }
grep -q -- '--static-swift-stdlib' "$DOCKERFILE" || { echo "check_image_libs: $DOCKERFILE does not link the Swift runtime statically"; exit 1; }
runtime=$(sed -n 's/^ARG RUNTIME_PACKAGES="\(.*\)"/\1/p' "$DOCKERFILE")
[ -n "$runtime" ] || { echo "check_image_libs: no RUNTIME_PACKAGES in $DOCKERFILE"; exit 1; }

missing=0; swift_libs=0; checked=0
declare -A path_of
while read -r name _ path _; do path_of[$name]=$path; done < <(ldd "$BIN" | grep '=>')
for lib in $(readelf -d "$BIN" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case "$lib" in
        ld-linux*) continue ;;
        libswift*|libFoundation*|lib_FoundationICU*|libdispatch*|libBlocksRuntime*) swift_libs=$((swift_libs + 1)); continue ;;
    esac
    path=${path_of[$lib]:-}
    [ -n "$path" ] || { echo "check_image_libs: $lib is not found on this machine"; missing=1; continue; }
    real=$(readlink -f "$path")
    pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true)
    pkg=${pkg%%:*}
    if [ -z "$pkg" ]; then echo "check_image_libs: no Debian package provides $lib ($real)"; missing=1; continue; fi
    if [[ " $runtime " == *" $pkg "* ]]; then
        echo "  $lib <- $pkg"
    else
        echo "check_image_libs: $lib comes from $pkg, which the runtime stage does not install"; missing=1
    fi
    checked=$((checked + 1))
done
[ $missing -eq 0 ] || exit 1
echo "check_image_libs: ok: $checked libraries from RUNTIME_PACKAGES; $swift_libs Swift runtime libraries linked statically in the image"
