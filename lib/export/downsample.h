/*
 * downsample.h — the rule by which the HTML report (report.c) thins a long
 * line to at most a fixed number of points without losing its extremes
 * (spec/EXPORTS.md §13.3). Kept apart from report.c so that a unit test
 * (tests/export/test_report_downsample.c) compiles it alone.
 */
#ifndef RUNLOG_EXPORT_DOWNSAMPLE_H
#define RUNLOG_EXPORT_DOWNSAMPLE_H

#include <stddef.h>

/*
 * Chooses which of n points (values v[0..n), in step order) a line keeps,
 * at most max_points of them (max_points >= 4). n <= max_points: every
 * point. Else the points are cut into B = max_points / 4 buckets of
 * consecutive points (bucket b holds points b*n/B .. (b+1)*n/B - 1), and of
 * each bucket the first, the last, the lowest and the highest point are
 * kept (the first of equal ones; NaN is never the lowest or highest), each
 * once. The indexes are written to keep[] in increasing order (so steps stay
 * in order); keep has room for max_points. Returns how many were written.
 */
size_t rx_downsample(const double *v, size_t n, size_t max_points, size_t *keep);

#endif
