/*
 * test_mountinfo.c — the /proc/PID/mountinfo parser behind the metadata key
 * disk_mount (spec/EXPORTS.md §8.1; lib/capture_meta.c), on crafted lines:
 * proc(5)'s escapes (\040 space, \011 tab, \012 newline, \134 backslash),
 * bad escapes, every prefix of a line (missing fields), malformed fields,
 * lines too long for the buffer, a last line without a newline, and the
 * bound on what is read. Each expected mount point is written out by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_internal.h"

#define LINE "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue"

/* The mount point of one line, or NULL when the parser refuses it. */
static const char *point(const char *line)
{
    static char out[4096];
    long n = rl_mountinfo_point(line, strlen(line), out, sizeof out);

    if (n < 0)
        return NULL;
    assert_int_equal((size_t)n, strlen(out));
    return out;
}

static void test_line(void **state)
{
    (void)state;
    assert_string_equal(point(LINE), "/mnt/parent");
    /* no optional fields; several of them */
    assert_string_equal(point("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw"), "/");
    assert_string_equal(point("25 24 0:23 / /dev/shm rw shared:2 master:3 propagate_from:4 - "
                              "tmpfs tmpfs rw"),
                        "/dev/shm");
    /* nsfs and the like: a root that is not a path */
    assert_string_equal(point("40 27 0:4 net:[4026531840] /run/netns/x rw - nsfs nsfs rw"),
                        "/run/netns/x");
    /* type is enough after the separator */
    assert_string_equal(point("1 2 3:4 / /a rw - t"), "/a");
}

static void test_escapes(void **state)
{
    (void)state;
    assert_string_equal(point("1 2 3:4 / /mnt/my\\040disk rw - ext4 /dev/x rw"), "/mnt/my disk");
    assert_string_equal(point("1 2 3:4 / /a\\011b\\012c\\134d rw - ext4 /dev/x rw"),
                        "/a\tb\nc\\d");
    assert_string_equal(point("1 2 3:4 / /\\040\\040 rw - ext4 /dev/x rw"), "/  ");
    /* UTF-8 is written as it is; \303\251 is é escaped all the same */
    assert_string_equal(point("1 2 3:4 / /caf\xc3\xa9 rw - ext4 x rw"), "/caf\xc3\xa9");
    assert_string_equal(point("1 2 3:4 / /caf\\303\\251 rw - ext4 x rw"), "/caf\xc3\xa9");
    assert_string_equal(point("1 2 3:4 / /\\377 rw - ext4 x rw"), "/\xff");
    /* an escaped space in the root does not split the line */
    assert_string_equal(point("1 2 3:4 /a\\040b /m rw - ext4 x rw"), "/m");
    /* bad escapes: the whole line is refused */
    assert_null(point("1 2 3:4 / /a\\04 rw - ext4 x rw"));   /* two digits */
    assert_null(point("1 2 3:4 / /a\\0 rw - ext4 x rw"));
    assert_null(point("1 2 3:4 / /a\\ rw - ext4 x rw"));     /* a lone backslash */
    assert_null(point("1 2 3:4 / /a\\400 rw - ext4 x rw"));  /* above 0377 */
    assert_null(point("1 2 3:4 / /a\\08x rw - ext4 x rw"));  /* 8 is not octal */
    assert_null(point("1 2 3:4 / /a\\x41 rw - ext4 x rw"));
    assert_null(point("1 2 3:4 / /a\\000b rw - ext4 x rw")); /* NUL would cut the name */
}

/* Every prefix of a valid line: refused until the type after "-" begins. */
static void test_missing_fields(void **state)
{
    const char *line = LINE, *type = strstr(line, " - ") + 3;
    char buf[sizeof LINE], out[64];
    size_t len;

    (void)state;
    for (len = 0; len <= strlen(line); len++) {
        long n;
        memcpy(buf, line, len);
        buf[len] = '\0';
        n = rl_mountinfo_point(buf, len, out, sizeof out);
        if (buf + len <= buf + (type - line)) {
            assert_int_equal(n, -1);
        } else {
            assert_int_equal(n, 11);
            assert_string_equal(out, "/mnt/parent");
        }
    }
    assert_null(point(""));
    assert_null(point("1 2 3:4 / /a rw"));                   /* no separator */
    assert_null(point("1 2 3:4 / /a rw -"));                 /* nothing after it */
    assert_null(point("1 2 3:4 / /a - ext4 x rw"));          /* "-" taken for the options */
}

/* A line with mount point P: the text and its length. */
#define FIT(p) "1 2 3:4 / " p " rw - t", strlen("1 2 3:4 / " p " rw - t")

static void test_bad_fields(void **state)
{
    char out[8];

    (void)state;
    assert_null(point("x 2 3:4 / /a rw - ext4 x rw"));       /* mount id */
    assert_null(point("1 -2 3:4 / /a rw - ext4 x rw"));      /* parent id */
    assert_null(point("1 2 34 / /a rw - ext4 x rw"));        /* no colon */
    assert_null(point("1 2 :4 / /a rw - ext4 x rw"));
    assert_null(point("1 2 3: / /a rw - ext4 x rw"));
    assert_null(point("1 2 3:4x / /a rw - ext4 x rw"));
    assert_null(point("1 2 3:4 / a rw - ext4 x rw"));        /* a relative mount point */
    assert_null(point("1  2 3:4 / /a rw - ext4 x rw"));      /* an empty field */
    assert_null(point("1 2 3:4 /  /a rw - ext4 x rw"));
    assert_null(point(" 1 2 3:4 / /a rw - ext4 x rw"));
    assert_null(point("1\t2 3:4 / /a rw - ext4 x rw"));
    /* NUL inside the line (a length past it) */
    assert_int_equal(rl_mountinfo_point("1 2 3:4 / /a\0b rw - t x rw", 26, out, sizeof out), -1);
    /* the point must fit with its NUL */
    assert_int_equal(rl_mountinfo_point(FIT("/abcdef"), out, 8), 7);
    assert_string_equal(out, "/abcdef");
    assert_int_equal(rl_mountinfo_point(FIT("/abcdefg"), out, 8), -1);
    assert_int_equal(rl_mountinfo_point(FIT("/abc\\040de"), out, 8), 7);
    assert_string_equal(out, "/abc de");
    assert_int_equal(rl_mountinfo_point(FIT("/abc\\040def"), out, 8), -1);
}

/* A file holding text, its offset at 0. */
static FILE *text_file(const char *text, size_t len)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fflush(f), 0);
    rewind(f);
    return f;
}

/* rl_mount_of() for path over text: the mount point, or NULL. The answer
 * may be longer than any path (a long line's), so that a line refused for
 * its length is told apart from one whose point does not fit. */
static const char *mount_of(const char *text, size_t len, const char *path)
{
    static char out[2u << 20];
    FILE *f = text_file(text, len);
    int rc = rl_mount_of(fileno(f), path, out, sizeof out);

    fclose(f);
    return rc == 0 ? out : NULL;
}

#define TABLE                                                              \
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"                      \
    "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"                      \
    "garbage line\n"                                                       \
    "\n"                                                                   \
    "50 27 8:1 / /scratch rw - xfs /dev/sdb1 rw\n"                         \
    "51 50 8:2 / /scratch/sub rw - xfs /dev/sdc1 rw\n"                     \
    "52 27 8:3 / /scratchy rw - xfs /dev/sdd1 rw\n"                        \
    "53 27 8:4 / /data\\040set rw - ext4 /dev/sde1 rw\n"                   \
    "54 50 8:5 / /scratch/bad\\x rw - ext4 /dev/sdf1 rw\n"                 \
    "55 50 8:6 / /scratch/short rw\n"                                      \
    "56 27 0:30 / /dev/shm rw - tmpfs tmpfs rw\n"                          \
    "57 56 0:31 / /dev/shm rw - tmpfs tmpfs rw\n"                          \
    "58 27 8:7 / /last rw - ext4 /dev/sdg1 rw"

static void test_longest_match(void **state)
{
    const char *t = TABLE;
    size_t n = strlen(TABLE);

    (void)state;
    assert_string_equal(mount_of(t, n, "/"), "/");
    assert_string_equal(mount_of(t, n, "/home/ada/runs"), "/");
    assert_string_equal(mount_of(t, n, "/scratch"), "/scratch");
    assert_string_equal(mount_of(t, n, "/scratch/ada/runs"), "/scratch");
    assert_string_equal(mount_of(t, n, "/scratch/sub"), "/scratch/sub");
    assert_string_equal(mount_of(t, n, "/scratch/sub/x"), "/scratch/sub");
    assert_string_equal(mount_of(t, n, "/scratch/subway"), "/scratch");  /* not /scratch/sub */
    assert_string_equal(mount_of(t, n, "/scratchy/z"), "/scratchy");
    assert_string_equal(mount_of(t, n, "/data set/x"), "/data set");
    assert_string_equal(mount_of(t, n, "/data/x"), "/");
    assert_string_equal(mount_of(t, n, "/scratch/bad\\x/y"), "/scratch"); /* refused lines */
    assert_string_equal(mount_of(t, n, "/scratch/short/y"), "/scratch");
    assert_string_equal(mount_of(t, n, "/dev/shm/r"), "/dev/shm");       /* mounted twice */
    assert_string_equal(mount_of(t, n, "/last/r"), "/last");  /* the last line, no newline */
    assert_string_equal(mount_of(t, n, "/proc/self"), "/proc");
    /* no "/" line: a path under no listed mount has no answer */
    assert_null(mount_of("50 27 8:1 / /scratch rw - xfs /dev/sdb1 rw\n", 43, "/home"));
    assert_string_equal(mount_of("50 27 8:1 / /scratch rw - xfs /dev/sdb1 rw\n", 43, "/scratch/a"),
                        "/scratch");
    assert_null(mount_of("", 0, "/x"));
    assert_null(mount_of("garbage\n\n\n", 10, "/x"));
    assert_null(mount_of(t, n, "relative/path"));
}

/* Lines longer than the parser's 64 KiB buffer (the line with its newline)
 * are skipped, wherever they fall in the reads, and the lines around them
 * still count; a line that fits is read whole. */
static void test_long_lines(void **state)
{
    static const size_t lens[] = {65535, 65536, 65537, 65600, 100000, 131072, 200000, 1u << 20};
    const char *head = "27 1 254:0 / / rw - ext4 /dev/vda rw\n";
    const char *tail = "60 27 8:9 / /after rw - ext4 /dev/sdh1 rw\n";
    const char *pre = "59 27 8:8 / /after/", *post = " rw - ext4 x rw\n";
    size_t i;

    (void)state;
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        /* a valid line of lens[i] bytes whose mount point would be the
         * longest match */
        size_t len = lens[i], k = 0, m = len - strlen(pre) - strlen(post);
        char *t = malloc(strlen(head) + len + strlen(tail) + 1), *want = malloc(m + 8);
        const char *got;
        assert_non_null(t);
        assert_non_null(want);
        k += (size_t)sprintf(t, "%s%s", head, pre);
        memset(t + k, 'x', m);
        k += m;
        k += (size_t)sprintf(t + k, "%s%s", post, tail);
        assert_int_equal(k, strlen(head) + len + strlen(tail));
        memcpy(want, "/after/", 7);
        memset(want + 7, 'x', m);
        want[7 + m] = '\0';
        got = mount_of(t, k, want); /* the long mount point itself */
        if (len <= 65536) {
            if (!got || strcmp(got, want) != 0)
                fail_msg("line of %zu bytes: %s", len, got ? got : "(none)");
        }
        else
            assert_string_equal(got, "/after");
        assert_string_equal(mount_of(t, k, "/home"), "/");
        /* a long line last, without a newline */
        k = (size_t)sprintf(t, "%s%s", head, tail);
        memset(t + k, 'y', len);
        assert_string_equal(mount_of(t, k + len, "/after/b"), "/after");
        free(t);
        free(want);
    }
}

/* Past 64 MiB the listing is taken as cut short: no answer. A sparse file
 * holds the zero bytes (one long line), so nothing is written to disk. */
static void test_bound(void **state)
{
    const char *head = "27 1 254:0 / / rw - ext4 /dev/vda rw\n";
    char out[64];
    FILE *f;

    (void)state;
    f = text_file(head, strlen(head));
    assert_int_equal(ftruncate(fileno(f), (off_t)(64u << 20)), 0);
    assert_int_equal(rl_mount_of(fileno(f), "/x", out, sizeof out), 0);
    assert_string_equal(out, "/");
    rewind(f);
    assert_int_equal(ftruncate(fileno(f), (off_t)(64u << 20) + 1), 0);
    assert_int_equal(rl_mount_of(fileno(f), "/x", out, sizeof out), -1);
    fclose(f);
}

/* A read error (a descriptor that is not open) is no answer. */
static void test_read_error(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(rl_mount_of(-1, "/x", out, sizeof out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_missing_fields),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_longest_match),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_read_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
