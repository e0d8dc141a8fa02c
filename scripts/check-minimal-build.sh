#!/usr/bin/env bash
# The library-only build (docs/BUILDING.md): configured with every optional
# feature disabled, it must build librunlog, librunlog-export and the
# command from the core dependencies alone (zstd, xxHash, libuuid, libcbor,
# jansson), never look up the optional ones, link none of them, and install
# into a prefix whose `runlog` starts with no environment set.
# Usage: scripts/check-minimal-build.sh [WORKDIR]   (default: build-minimal)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-minimal}
case $dir in /*) ;; *) dir="$PWD/$dir" ;; esac
prefix="$dir/prefix"
optional='hdf5|protobuf-c|libprotobuf-c|protoc-c|spng|libjpeg|libmd|sqlite3|cmocka|zlib'
fail() { echo "check-minimal-build: $*" >&2; exit 1; }

rm -rf "$dir"
meson setup "$dir" -Dauto_features=disabled --prefix "$prefix" --libdir lib >"$dir.setup.log" 2>&1 ||
    { cat "$dir.setup.log" >&2; fail "meson setup failed"; }
mv "$dir.setup.log" "$dir/setup.log"
# meson logs a disabled feature's dependency as skipped, and any looked-up
# one as "Run-time dependency NAME found: YES/NO".
if grep -E "^(Run-time dependency|Program) ($optional)" "$dir/meson-logs/meson-log.txt" | grep -v "skipped: feature"; then
    fail "an optional dependency was looked up (above)"
fi
ninja -C "$dir" >"$dir/build.log" 2>&1 || { tail -30 "$dir/build.log" >&2; fail "build failed"; }
for so in "$dir/lib/librunlog.so" "$dir/lib/export/librunlog-export.so" "$dir/tools/runlog"; do
    if ldd "$so" | grep -E -i "hdf5|protobuf|spng|jpeg|libmd|sqlite|libz\.so"; then
        fail "$so links an optional library (above)"
    fi
done
meson install -C "$dir" >"$dir/install.log" 2>&1 || { tail -30 "$dir/install.log" >&2; fail "install failed"; }
version=$(env -i "$prefix/bin/runlog" --version) || fail "$prefix/bin/runlog --version failed with no environment"
echo "check-minimal-build: OK: $version; librunlog.so links: $(ldd "$dir/lib/librunlog.so" | awk '{print $1}' | grep -v -E 'vdso|ld-linux' | tr '\n' ' ')"
