/*
 * test_report_downsample.c — the report's down-sampling rule (spec/
 * EXPORTS.md §13.3, lib/export/downsample.c), compiled in alone: at most
 * max_points points, indexes increasing, and the first, last, lowest and
 * highest point of every bucket kept.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "downsample.h"

static int kept(const size_t *keep, size_t k, size_t i)
{
    size_t a;

    for (a = 0; a < k; a++)
        if (keep[a] == i)
            return 1;
    return 0;
}

/* Checks keep[0..k) for v[0..n) against the rule, computed here again. */
static void check_rule(const double *v, size_t n, size_t max, const size_t *keep, size_t k)
{
    size_t b, nb = max / 4, i;

    assert_true(k <= max);
    for (i = 1; i < k; i++)
        assert_true(keep[i - 1] < keep[i]); /* increasing: steps stay in order */
    for (b = 0; b < nb; b++) {
        size_t lo = b * n / nb, hi = (b + 1) * n / nb;
        double mn = INFINITY, mx = -INFINITY;
        assert_true(kept(keep, k, lo));
        assert_true(kept(keep, k, hi - 1));
        for (i = lo; i < hi; i++) {
            if (isnan(v[i]))
                continue;
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        if (isinf(mn))
            continue; /* only NaN in this bucket */
        /* some kept point of the bucket has the minimum, and one the maximum */
        {
            int got_min = 0, got_max = 0;
            for (i = 0; i < k; i++)
                if (keep[i] >= lo && keep[i] < hi) {
                    got_min |= v[keep[i]] == mn;
                    got_max |= v[keep[i]] == mx;
                }
            assert_true(got_min);
            assert_true(got_max);
        }
    }
}

static void test_short_line_kept_whole(void **state)
{
    double v[10];
    size_t keep[2000], i, k;

    (void)state;
    for (i = 0; i < 10; i++)
        v[i] = (double)i;
    k = rx_downsample(v, 10, 2000, keep);
    assert_int_equal(k, 10);
    for (i = 0; i < 10; i++)
        assert_int_equal(keep[i], i);
    assert_int_equal(rx_downsample(v, 0, 2000, keep), 0);
}

static void test_noise_with_spikes(void **state)
{
    size_t n = 100003, max = 2000, i, k;
    double *v = malloc(n * sizeof *v);
    size_t *keep = malloc(max * sizeof *keep);
    uint64_t s = 42;

    (void)state;
    for (i = 0; i < n; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        v[i] = 1.0 / (1.0 + (double)i / 1000) + (double)(s >> 40) / (1 << 24) * 0.1;
    }
    v[777] = 50.0;    /* one spike up and one down: a plot must show them */
    v[54321] = -50.0;
    for (i = 900; i < 1400; i++)
        v[i] = NAN;   /* a gap: NaN is never a bucket's extreme */
    k = rx_downsample(v, n, max, keep);
    assert_true(k > max / 2);
    check_rule(v, n, max, keep, k);
    assert_true(kept(keep, k, 777));
    assert_true(kept(keep, k, 54321));
    assert_true(kept(keep, k, 0));
    assert_true(kept(keep, k, n - 1));
    free(v);
    free(keep);
}

static void test_sizes_around_the_bound(void **state)
{
    size_t sizes[] = {2001, 2002, 2003, 2999, 4000, 4001, 8191}, t, i, k;
    size_t maxes[] = {4, 7, 2000};
    size_t keep[2000];

    (void)state;
    for (t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        size_t m;
        double *v = malloc(sizes[t] * sizeof *v);
        for (i = 0; i < sizes[t]; i++)
            v[i] = (i % 7 == 3) ? -(double)i : (i % 11 == 5 ? (double)i : 0.0);
        for (m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
            k = rx_downsample(v, sizes[t], maxes[m], keep);
            check_rule(v, sizes[t], maxes[m], keep, k);
        }
        free(v);
    }
}

static void test_constant_and_all_nan(void **state)
{
    size_t n = 5000, i, k, keep[2000];
    double *v = malloc(n * sizeof *v);

    (void)state;
    for (i = 0; i < n; i++)
        v[i] = 1.0;
    k = rx_downsample(v, n, 2000, keep);
    check_rule(v, n, 2000, keep, k);
    for (i = 0; i < n; i++)
        v[i] = NAN;
    k = rx_downsample(v, n, 2000, keep);
    check_rule(v, n, 2000, keep, k);
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_line_kept_whole),
        cmocka_unit_test(test_noise_with_spikes),
        cmocka_unit_test(test_sizes_around_the_bound),
        cmocka_unit_test(test_constant_and_all_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
