/*
 * downsample.c — see downsample.h. Buckets of consecutive points rather
 * than of step ranges: a run whose steps jump (resumed, or logged every
 * 1000 steps after a warm-up) still gets its points spread over its rows.
 */
#include <math.h>

#include "downsample.h"

size_t rx_downsample(const double *v, size_t n, size_t max_points, size_t *keep)
{
    size_t b, nb, out = 0;

    if (n <= max_points) {
        for (b = 0; b < n; b++)
            keep[b] = b;
        return n;
    }
    nb = max_points / 4;
    for (b = 0; b < nb; b++) {
        size_t lo = b * n / nb, hi = (b + 1) * n / nb, i, imin = lo, imax = lo;
        size_t pick[4];
        int have = 0, k, m;

        /* lo..hi-1 is not empty: n > max_points >= 4 * nb, so n / nb > 1 */
        for (i = lo; i < hi; i++) {
            if (isnan(v[i]))
                continue;
            if (!have) {
                imin = imax = i;
                have = 1;
                continue;
            }
            if (v[i] < v[imin])
                imin = i;
            if (v[i] > v[imax])
                imax = i;
        }
        pick[0] = lo;
        pick[1] = imin < imax ? imin : imax;
        pick[2] = imin < imax ? imax : imin;
        pick[3] = hi - 1;
        /* pick[] is in order (lo <= both <= hi-1): drop repeats */
        for (k = 0; k < 4; k++) {
            for (m = 0; m < k; m++)
                if (pick[m] == pick[k])
                    break;
            if (m == k)
                keep[out++] = pick[k];
        }
    }
    return out;
}
