#!/usr/bin/env bash
# Quick start, part 2: the whole test suite, twice: a normal build (build/)
# and one under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
# then the library's own suites once more under valgrind memcheck (leaks and
# reads of uninitialised memory, which ASan does not see), and the suites
# with threads (writer thread, follower, capture) under ThreadSanitizer;
# then the library-only build (scripts/check-minimal-build.sh).
# Ends with one line "N passed, N failed"; exits non-zero if anything failed
# or no test ran.
set -uo pipefail
cd "$(dirname "$0")"

./scripts/install-deps.sh || exit 1

passed=0
failed=0

# Adds the Ok / Fail / Timeout / Unexpected Pass counts of meson test's
# closing summary (saved in $1) to the totals.
count_results() {
    local ok bad
    ok=$(awk '/^Ok:/ {s += $2} END {print s + 0}' "$1")
    bad=$(awk '/^(Fail|Timeout):/ {s += $2} /^Unexpected Pass:/ {s += $3}
               END {print s + 0}' "$1")
    passed=$((passed + ok))
    failed=$((failed + bad))
}

# run_suite DIR [meson setup options...]: configure (once), build, test.
run_suite() {
    local dir=$1; shift
    local log="$dir/test-output.txt"
    echo "=== $dir"
    if [ ! -f "$dir/build.ninja" ] && ! meson setup "$dir" "$@"; then
        echo "test.sh: meson setup $dir failed" >&2
        failed=$((failed + 1)); return
    fi
    if ! ninja -C "$dir"; then
        echo "test.sh: build in $dir failed" >&2
        failed=$((failed + 1)); return
    fi
    local rc=0
    meson test -C "$dir" --print-errorlogs "${MESON_TEST_ARGS[@]}" 2>&1 | tee "$log" || rc=$?
    count_results "$log"
    # meson test failing without counting a failed test (e.g. it could not
    # start) still has to show in the total.
    if [ "$rc" -ne 0 ] && ! grep -qE '^(Fail|Timeout):[[:space:]]*[1-9]' "$log"; then
        failed=$((failed + 1))
    fi
}

MESON_TEST_ARGS=()
run_suite build

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Sanitized code runs several times slower; the timeouts scale with it.
MESON_TEST_ARGS=(--timeout-multiplier 4)
# The Python suite runs in build/ only: a sanitized extension would need the
# sanitizer runtime preloaded into /usr/bin/python3.
run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dpython=disabled

MESON_TEST_ARGS=(--setup valgrind --suite unit --suite crash --suite corruption --suite media --timeout-multiplier 4)
unset ASAN_OPTIONS UBSAN_OPTIONS
run_suite build
# librunlog-export through its API (the HDF5 one is left out: libhdf5's own
# allocations at exit are not ours to free).
MESON_TEST_ARGS=(--setup valgrind --timeout-multiplier 4 test_export_json test_export_extract test_export_wandb)
run_suite build

export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
MESON_TEST_ARGS=(--suite unit --suite crash --suite capture --suite media --timeout-multiplier 6)
run_suite build-tsan -Db_sanitize=thread -Db_lundef=false -Dpython=disabled

# The library-only build: every optional feature off, no optional
# dependency looked up or linked, and an installed `runlog` that starts with
# no environment (docs/BUILDING.md). One check.
echo "=== build-minimal"
if ./scripts/check-minimal-build.sh build-minimal; then
    passed=$((passed + 1))
else
    failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
