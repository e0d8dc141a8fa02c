/*
 * test_error — the error model's own rules: runlog_error_set() returns its
 * code and sets the detail, a detail may be built from the detail below it
 * (runlog_error_detail() as an argument: layers add their context), every
 * code has its own text.
 */
#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "runlog.h"

static void test_set_returns_code_and_detail(void **state)
{
    (void)state;
    assert_int_equal(runlog_error_set(RUNLOG_ECORRUPT, "%s: byte %d: %s", "a.runlog", 72, "bad"),
                     RUNLOG_ECORRUPT);
    assert_string_equal(runlog_error_detail(), "a.runlog: byte 72: bad");
}

static void test_detail_from_detail(void **state)
{
    (void)state;
    runlog_error_set(RUNLOG_EINVAL, "artifact entry path \"../x\": '..' component");
    runlog_error_set(RUNLOG_ECORRUPT, "f.runlog: entry 0: %s; nothing extracted", runlog_error_detail());
    assert_string_equal(runlog_error_detail(),
                        "f.runlog: entry 0: artifact entry path \"../x\": '..' component; nothing extracted");
}

static void test_codes_have_texts(void **state)
{
    (void)state;
    for (int a = RUNLOG_EDAMAGED; a <= 0; a++) {
        assert_string_not_equal(runlog_strerror(a), "unknown error");
        for (int b = a + 1; b <= 0; b++)
            assert_string_not_equal(runlog_strerror(a), runlog_strerror(b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_returns_code_and_detail),
        cmocka_unit_test(test_detail_from_detail),
        cmocka_unit_test(test_codes_have_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
