/* Test-only exports of the static inline helpers in te_arith.h, so the host
 * tests can check them one by one. Not part of the kernel library. */
#include "tinyedge/te_arith.h"

int32_t te_test_srdhm(int32_t a, int32_t b) { return te_srdhm(a, b); }
int32_t te_test_rdbpot(int32_t x, int32_t exponent) { return te_rdbpot(x, (int)exponent); }
int32_t te_test_mbqm(int32_t x, int32_t m, int32_t s) { return te_mbqm(x, m, s); }
int32_t te_test_exp_on_negative_values(int32_t a) { return te_exp_on_negative_values_q5(a); }
int32_t te_test_one_over_one_plus_x(int32_t a) { return te_one_over_one_plus_x(a); }
int32_t te_test_get_reciprocal(int32_t x, int32_t *num_bits_over_unit)
{
    int bits = 0;
    const int32_t r = te_get_reciprocal(x, 12, &bits);
    *num_bits_over_unit = bits;
    return r;
}
