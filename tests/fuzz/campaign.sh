#!/bin/sh
# Runs each libFuzzer target of build.sh in turn (one at a time: the CI
# machine has 2 cores), each for its share of seconds, from a working copy of
# its seed corpus. Logs go to OUTDIR/logs/TARGET.log, crashes to
# OUTDIR/crashes/TARGET/. Afterwards, merge new inputs into the committed
# corpus with:  OUTDIR/fuzz_T -merge=1 tests/fuzz/corpus/T OUTDIR/work/T
#
#   tests/fuzz/campaign.sh OUTDIR "reader:720 frame:600 ..."
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
plan=$2
mkdir -p "$out/logs" "$out/work" "$out/crashes"
for item in $plan; do
    t=${item%%:*}
    secs=${item#*:}
    mkdir -p "$out/work/$t" "$out/crashes/$t"
    cp -n "$root/tests/fuzz/corpus/$t"/* "$out/work/$t/" 2>/dev/null
    extra=""
    # Repair has a known finding (docs/RELIABILITY.md): keep fuzzing past it.
    [ "$t" = repair ] && extra="-fork=1 -ignore_crashes=1"
    start=$(date +%s)
    "$out/fuzz_$t" "$out/work/$t" -max_total_time="$secs" -rss_limit_mb=2048 \
        -timeout=20 -close_fd_mask=2 -print_final_stats=1 \
        -artifact_prefix="$out/crashes/$t/" $extra > "$out/logs/$t.log" 2>&1
    echo "$t: exit $? after $(( $(date +%s) - start )) s" >> "$out/logs/summary.txt"
done
