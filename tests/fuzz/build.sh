#!/bin/sh
# Builds the libFuzzer binaries of tests/fuzz/ with clang and
# -fsanitize=fuzzer,address,undefined, straight from the sources (the meson
# build makes the replay drivers; this script makes the fuzzers).
#
#   tests/fuzz/build.sh [OUTDIR]          default OUTDIR: build-fuzz
#   OUTDIR/fuzz_reader -max_total_time=600 -rss_limit_mb=2048 \
#       tests/fuzz/corpus/reader          (see docs/RELIABILITY.md)
#
# The seed corpora are written by the meson-built fuzz_make_seeds program:
#   build-rel/tests/fuzz/fuzz_make_seeds tests/fuzz/corpus
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/build-fuzz}
cc=${CC:-clang}
mkdir -p "$out/obj"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter $san
       -I$root/lib/include -I$root/lib -I$root/lib/util -I$root/format -I$root/tools -I$root/tests/fuzz"
libs="-lspng -ljpeg -lzstd -lxxhash -lcbor -luuid -ljansson -lpthread -lm"

objs=""
for src in "$root"/format/*.c "$root"/lib/*.c "$root"/lib/util/rlu.c "$root"/tests/fuzz/fuzz_common.c; do
    # lib/ and tools/ both have a media.c: name objects dir_file.o.
    o="$out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
    # -fsanitize=fuzzer-no-link: the library is instrumented for coverage
    # but gets no main().
    $cc $flags -fsanitize=fuzzer-no-link -c "$src" -o "$o"
    objs="$objs $o"
done
# The export target: librunlog-export's stream converters and what they use
# (lib/util, the converters' files of lib/export/meson.build).
export_objs=""
export_flags="-I$root/lib/util -I$root/lib/export -DRX_HAVE_IMAGES
"
for src in "$root"/lib/export/export.c \
           "$root"/lib/export/json.c "$root"/lib/export/csv.c "$root"/lib/export/dump.c \
           "$root"/lib/export/extract.c "$root"/lib/export/media.c "$root"/lib/export/image.c; do
    o="$out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
    $cc $flags $export_flags -fsanitize=fuzzer-no-link -c "$src" -o "$o"
    export_objs="$export_objs $o"
done

for t in frame cbor history index reader repair export runset; do
    extra=""
    [ "$t" = export ] && extra=$export_objs
    $cc $flags -fsanitize=fuzzer "$root/tests/fuzz/fuzz_$t.c" $objs $extra $libs \
        -o "$out/fuzz_$t"
    echo "built $out/fuzz_$t"
done

# The convert target needs every converter (HDF5, W&B with its generated
# protobuf-c code, the report with its embedded assets): meson builds the
# static libraries with clang and coverage instrumentation in OUTDIR/meson,
# and the target links them with the features' libraries.
if [ ! -d "$out/meson" ]; then
    CC=$cc meson setup "$out/meson" "$root" --buildtype=debug -Db_lundef=false \
        -Db_sanitize=address,undefined \
        "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" \
        -Dtests=disabled -Dbench=disabled -Dpython=disabled >/dev/null
fi
ninja -C "$out/meson" lib/export/librunlog-export.a lib/librunlog.a lib/util/librunlog_util.a \
    format/librunlog_format.a >/dev/null
m=$out/meson
$cc $flags -fsanitize=fuzzer "$root/tests/fuzz/fuzz_convert.c" "$root/tests/fuzz/fuzz_common.c" \
    "$m/lib/export/librunlog-export.a" "$m/lib/librunlog.a" "$m/lib/util/librunlog_util.a" \
    "$m/format/librunlog_format.a" $(pkg-config --libs hdf5 libprotobuf-c zlib libmd) $libs \
    -o "$out/fuzz_convert"
echo "built $out/fuzz_convert"
