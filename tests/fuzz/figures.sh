#!/bin/sh
# Prints the figures of a campaign (tests/fuzz/campaign.sh OUTDIR ...) as a
# markdown table for docs/RELIABILITY.md.
out=${1:-build-fuzz}
echo "| target | seconds | executions | exec/s | cov/ft at start | cov/ft at end | corpus | crashes |"
echo "|---|---:|---:|---:|---|---|---|---:|"
for log in "$out"/logs/*.log; do
    t=$(basename "$log" .log)
    secs=$(sed -n "s/^$t: exit [0-9]* after \([0-9]*\) s/\1/p" "$out/logs/summary.txt" 2>/dev/null)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    init=$(grep -m1 'INITED' "$log" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1\/\2/p')
    last=$(grep -E 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    end=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1\/\2/p')
    corp=$(echo "$last" | sed -n 's/.*corp: \([^ ]*\).*/\1/p')
    # -fork mode (repair) prints "#N: cov: C ft: F corp: K exec/s E ..."
    # and no stat:: lines.
    [ -z "$runs" ] && runs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    [ -z "$eps" ] && [ -n "$runs" ] && [ -n "$secs" ] && eps=$((runs / secs))
    [ -z "$corp" ] && corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    crashes=$(ls "$out/crashes/$t" 2>/dev/null | wc -l)
    echo "| $t | ${secs:-?} | ${runs:-?} | ${eps:-?} | ${init:-?} | ${end:-?} | ${corp:-?} | $crashes |"
done
