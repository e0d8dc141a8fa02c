#!/bin/sh
# Installs the Debian packages runlog needs to build and test, if any are
# missing. Quiet when everything is already there, so the quick-start
# commands can call it every time.
set -eu

PACKAGES="meson ninja-build pkg-config gcc g++ libzstd-dev libxxhash-dev uuid-dev
libcbor-dev libjansson-dev libcmocka-dev libhdf5-dev hdf5-tools python3-h5py
python3-numpy libspng-dev valgrind libsqlite3-dev
python3-zstandard python3-xxhash python3-cbor2
libprotobuf-c-dev protobuf-c-compiler protobuf-compiler python3-protobuf libmd-dev
zlib1g-dev python3-yaml
libjpeg62-turbo-dev python3-matplotlib
python3-dev python3-pytest python3-pandas python3-mesonpy python3-pil
libjs-dygraphs chromium
python3-dask python3-distributed python3-sklearn python3-torch python3-torchvision"

missing=""
for p in $PACKAGES; do
    # dpkg-query prints "install ok installed" only for a fully installed package.
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: apt-get not found; install these packages by hand:$missing" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
echo "install-deps: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086  # the list is meant to be split into words
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
