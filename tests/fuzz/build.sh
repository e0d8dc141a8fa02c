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
       -I$root/lib/include -I$root/lib -I$root/format -I$root/tools -I$root/tests/fuzz"
libs="-lspng -lzstd -lxxhash -lcbor -luuid -ljansson -lpthread -lm"

objs=""
for src in "$root"/format/*.c "$root"/lib/*.c "$root"/tests/fuzz/fuzz_common.c; do
    # lib/ and tools/ both have a media.c: name objects dir_file.o.
    o="$out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
    # -fsanitize=fuzzer-no-link: the library is instrumented for coverage
    # but gets no main().
    $cc $flags -fsanitize=fuzzer-no-link -c "$src" -o "$o"
    objs="$objs $o"
done
# The export target: tools/ objects minus runlog.c (main and command table),
# as in tests/fuzz/meson.build.
tools=""
for f in cmd_export util media png; do
    $cc $flags -fsanitize=fuzzer-no-link -c "$root/tools/$f.c" -o "$out/obj/tools_$f.o"
    tools="$tools $out/obj/tools_$f.o"
done

for t in frame cbor history index reader repair export; do
    extra=""
    [ "$t" = export ] && extra=$tools
    $cc $flags -fsanitize=fuzzer "$root/tests/fuzz/fuzz_$t.c" $objs $extra $libs \
        -o "$out/fuzz_$t"
    echo "built $out/fuzz_$t"
done
