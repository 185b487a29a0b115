/* Integer arithmetic shared by the reference kernels (internal header).
 *
 * The functions reproduce TFLite's requantization (double rounding, as TFLite
 * Micro builds it) and the gemmlowp fixed-point pieces its int8 softmax uses.
 * They are written without undefined behaviour: products are taken in 64 bits,
 * left shifts are done on unsigned values, right shifts of negative values are
 * avoided, and shift counts are kept in [0, 31].
 *
 * Where TFLite relies on int32 wrap-around (a left shift before the high
 * multiply, or a long accumulation), te_wrap_s32() gives the same two's
 * complement result without signed overflow.
 */
#ifndef TINYEDGE_TE_ARITH_H
#define TINYEDGE_TE_ARITH_H

#include <stdint.h>

#include "tinyedge/te_types.h"

static inline int32_t te_min_s32(int32_t a, int32_t b) { return a < b ? a : b; }
static inline int32_t te_max_s32(int32_t a, int32_t b) { return a > b ? a : b; }

static inline int32_t te_clamp_s32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* The int32 whose two's complement bits are u (what a wrapping int32 add or
 * shift would produce), without an implementation-defined conversion. */
static inline int32_t te_wrap_s32(uint32_t u)
{
    if (u <= (uint32_t)INT32_MAX) {
        return (int32_t)u;
    }
    return -(int32_t)(~u) - 1;
}

/* a + b with int32 wrap-around, as TFLite's int32 adds behave on hardware. */
static inline int32_t te_add_wrap_s32(int32_t a, int32_t b)
{
    return te_wrap_s32((uint32_t)a + (uint32_t)b);
}

/* floor(x / 2^shift) for shift in [0, 31], without right-shifting a negative
 * value (implementation-defined in C99): ~x is non-negative when x is not. */
static inline int32_t te_asr_s32(int32_t x, int shift)
{
    return x >= 0 ? (x >> shift) : ~((~x) >> shift);
}

/* gemmlowp SaturatingRoundingDoublingHighMul: round(a * b / 2^31), ties
 * toward +infinity; the one overflowing case (-2^31 * -2^31) saturates. */
static inline int32_t te_srdhm(int32_t a, int32_t b)
{
    int64_t ab;
    int64_t nudge;
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    /* C99 division truncates toward zero, as gemmlowp's does. */
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* gemmlowp RoundingDivideByPOT: x / 2^exponent rounded half away from zero,
 * exponent in [0, 31]. */
static inline int32_t te_rdbpot(int32_t x, int exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = (int32_t)((uint32_t)x & (uint32_t)mask);
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return te_asr_s32(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier (double-rounding form):
 * x * multiplier * 2^(shift - 31). The left part of the shift is applied
 * before the high multiply and wraps like TFLite's int32 arithmetic on
 * hardware; shifts outside [-31, 31] are clamped (never produced by TFLite). */
static inline int32_t te_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = (int)te_clamp_s32(shift, 0, 31);
    const int right = (int)te_clamp_s32(-shift, 0, 31);
    const int32_t shifted = te_wrap_s32((uint32_t)x << left);
    return te_rdbpot(te_srdhm(shifted, multiplier), right);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for exponent in [1, 31]:
 * x * 2^exponent, saturated to int32. */
static inline int32_t te_sat_mul_pot(int32_t x, int exponent)
{
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return te_wrap_s32((uint32_t)x << exponent); /* in range: exact */
}

/* gemmlowp Rescale between fixed-point formats of int32 raw values: from
 * src_bits integer bits to dst_bits, saturating when gaining bits. */
static inline int32_t te_fp_rescale(int32_t x, int src_bits, int dst_bits)
{
    const int exponent = src_bits - dst_bits;
    if (exponent > 0) {
        return te_sat_mul_pot(x, exponent);
    }
    return te_rdbpot(x, -exponent);
}

/* gemmlowp RoundingHalfSum: (a + b) / 2 rounded half away from zero. */
static inline int32_t te_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* Number of leading zero bits of x (32 for 0). */
static inline int te_clz_u32(uint32_t x)
{
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

/* gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl:
 * a and the result are Q0.31; a Taylor expansion around -1/8. */
static inline int32_t te_exp_on_interval_m025_0(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
    const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
    const int32_t x = a + ((int32_t)1 << 28);        /* a + 1/8 */
    const int32_t x2 = te_srdhm(x, x);
    const int32_t x3 = te_srdhm(x2, x);
    const int32_t x4 = te_srdhm(x2, x2);
    const int32_t x4_over_4 = te_rdbpot(x4, 2);
    const int32_t poly =
        te_rdbpot(te_srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + te_srdhm(exp_minus_one_eighth, x + poly);
}

/* gemmlowp exp_on_negative_values for an input a <= 0 with integer_bits
 * integer bits (integer_bits in [1, 5]); the result is Q0.31.
 * exp(a) = exp(a mod 1/4 - 1/4) * prod exp(-2^k) over the bits of the
 * remainder. */
static inline int32_t te_exp_on_negative_values(int32_t a, int integer_bits)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t exp_of_minus_pot[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_quarter =
        (int32_t)((uint32_t)a & (uint32_t)(one_quarter - 1)) - one_quarter;
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    int32_t result = te_exp_on_interval_m025_0(
        te_fp_rescale(a_mod_quarter_minus_quarter, integer_bits, 0));
    int k;
    for (k = 0; k < 7 && k - 2 < integer_bits; k++) {
        const int bit = fractional_bits - 2 + k;
        if (((uint32_t)remainder >> bit) & 1u) {
            result = te_srdhm(result, exp_of_minus_pot[k]);
        }
    }
    if (a == 0) {
        result = INT32_MAX; /* exp(0) = 1, saturated in Q0.31 */
    }
    return result;
}

/* exp_on_negative_values for a Q5.26 input (the softmax format). */
static inline int32_t te_exp_on_negative_values_q5(int32_t a)
{
    return te_exp_on_negative_values(a, 5);
}

/* The Newton-Raphson step of gemmlowp's one_over_one_plus_x_for_x_in_0_1
 * and one_minus_x_over_one_plus_x_for_x_in_0_1: for a in Q0.31, returns
 * 1 / ((1 + a) / 2) in Q2.29. */
static inline int32_t te_reciprocal_of_half_one_plus_x_q2(int32_t a)
{
    const int32_t forty_eight_over_17 = 1515870810;     /* Q2.29 */
    const int32_t minus_thirty_two_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = (int32_t)1 << 29;
    const int32_t half_denominator = te_rounding_half_sum(a, INT32_MAX);
    int32_t x = forty_eight_over_17 + te_srdhm(half_denominator, minus_thirty_two_over_17);
    int i;
    for (i = 0; i < 3; i++) {
        const int32_t half_denominator_times_x = te_srdhm(half_denominator, x);
        const int32_t one_minus = one_q2 - half_denominator_times_x;
        /* Q2 * Q2 is Q4; rescale back to Q2 */
        x = x + te_fp_rescale(te_srdhm(x, one_minus), 4, 2);
    }
    return x;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: a and the result are Q0.31. */
static inline int32_t te_one_over_one_plus_x(int32_t a)
{
    /* x / 2 read as Q1, rescaled to Q0 */
    return te_fp_rescale(te_reciprocal_of_half_one_plus_x_q2(a), 1, 0);
}

/* gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: a and the result are
 * Q0.31: 2 / (1 + a) - 1. */
static inline int32_t te_one_minus_x_over_one_plus_x(int32_t a)
{
    const int32_t one_q2 = (int32_t)1 << 29;
    return te_fp_rescale(te_reciprocal_of_half_one_plus_x_q2(a) - one_q2, 2, 0);
}

/* gemmlowp logistic of a Q4.27 value; the result is Q0.31. */
static inline int32_t te_logistic_q4(int32_t a)
{
    int32_t abs_a, positive;
    if (a == 0) {
        return (int32_t)1 << 30; /* one half */
    }
    /* callers keep |a| well inside int32 (TFLite's input radius) */
    abs_a = a > 0 ? a : -a;
    positive = te_one_over_one_plus_x(te_exp_on_negative_values(-abs_a, 4));
    return a > 0 ? positive : INT32_MAX - positive;
}

/* gemmlowp tanh of a Q4.27 value; the result is Q0.31. tanh(|a|) is
 * (1 - exp(-2|a|)) / (1 + exp(-2|a|)); -|a| read as Q5.26 is -2|a|. */
static inline int32_t te_tanh_q4(int32_t a)
{
    int32_t t;
    if (a == 0) {
        return 0;
    }
    t = te_one_minus_x_over_one_plus_x(te_exp_on_negative_values(a < 0 ? a : -a, 5));
    return a < 0 ? -t : t;
}

/* TFLite GetReciprocal: for x > 0 in Q(x_integer_bits), returns 1/x as a
 * Q0.31 value scaled by 2^-num_bits_over_unit. */
static inline int32_t te_get_reciprocal(int32_t x, int x_integer_bits,
                                        int *num_bits_over_unit)
{
    const int headroom_plus_one = te_clz_u32((uint32_t)x);
    /* x > 0, so the shift is at most 31 (the mask only guards x == 0) */
    const uint32_t shifted = (uint32_t)x << (headroom_plus_one & 31);
    const int32_t shifted_minus_one = te_wrap_s32(shifted - 0x80000000u);
    *num_bits_over_unit = x_integer_bits - headroom_plus_one;
    return te_one_over_one_plus_x(shifted_minus_one);
}

/* TFLite GetInvSqrtQuantizedMultiplierExp (with reverse_shift -1):
 * 1 / sqrt(x) for x >= 0 as *multiplier * 2^(*shift - 31), *shift a left
 * shift (<= 0 except for tiny x). x <= 1 gives (INT32_MAX, 0), as TFLite.
 * Newton-Raphson in Q3.28, five steps from 1. */
static inline void te_inv_sqrt_multiplier_exp(int32_t x, int32_t *multiplier, int32_t *shift)
{
    const int32_t half_three = ((int32_t)1 << 28) + ((int32_t)1 << 27); /* 1.5 in Q3.28 */
    const int32_t half_sqrt_2 = 1518500250;                             /* Q0.31 */
    int32_t right_shift = 11;
    int32_t half_input, y;
    int pairs, i;
    if (x <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    while (x >= ((int32_t)1 << 29)) {
        x /= 4;
        right_shift++;
    }
    pairs = (te_clz_u32((uint32_t)x) - 1) / 2 - 1;
    right_shift -= pairs;
    x = (int32_t)((uint32_t)x << (2 * pairs)); /* now in [2^27, 2^29) */
    half_input = te_rdbpot(x >> 1, 1);
    y = (int32_t)1 << 28; /* 1.0 in Q3.28 */
    for (i = 0; i < 5; i++) {
        /* Q3 * Q3 * Q3 is Q9, back to Q3; Q3 * Q3 is Q6, back to Q3 */
        const int32_t y3 = te_fp_rescale(te_srdhm(te_srdhm(y, y), y), 9, 3);
        y = te_fp_rescale(te_srdhm(half_three, y) - te_srdhm(half_input, y3), 6, 3);
    }
    y = te_srdhm(y, half_sqrt_2);
    if (right_shift < 0) {
        y = te_wrap_s32((uint32_t)y << (-right_shift));
        right_shift = 0;
    }
    *multiplier = y;
    *shift = -right_shift;
}

/* The int64 whose two's complement bits are u (as te_wrap_s32). */
static inline int64_t te_wrap_s64(uint64_t u)
{
    if (u <= (uint64_t)INT64_MAX) {
        return (int64_t)u;
    }
    return -(int64_t)(~u) - 1;
}

/* TFLite's MultiplyByQuantizedMultiplier for an int64 accumulator (the 16x8
 * kernels): the multiplier rounded to 16 bits, one rounding right shift by
 * 15 - shift (shift in [-31, 7]), the result truncated to int32 as TFLite's
 * cast does. The product wraps instead of overflowing. */
static inline int32_t te_mbqm_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int total_shift = 15 - (int)shift;
    const int64_t sum = te_wrap_s64((uint64_t)x * (uint64_t)reduced
                                    + ((uint64_t)1 << (total_shift - 1)));
    const int64_t shifted = sum >= 0 ? (sum >> total_shift) : ~((~sum) >> total_shift);
    return te_wrap_s32((uint32_t)((uint64_t)shifted & 0xFFFFFFFFu));
}

/* Whether count (multiplier, shift) pairs are in te_mbqm_s64's domain. */
static inline int te_mbqm_s64_params_ok(const int32_t *multipliers, const int8_t *shifts,
                                        int32_t count)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        if (multipliers[i] < 0 || shifts[i] < -31 || shifts[i] > 7) {
            return 0;
        }
    }
    return 1;
}

/* sum over k < n of (w[k] + w_off) * (x[k] + x_off), modulo 2^32 as TFLite's
 * int32 accumulator wraps. Out of line: in a caller's loop the Cortex-M0+'s
 * eight low registers would not hold this loop's operands. */
static TE_NOINLINE TE_MAYBE_UNUSED uint32_t te_dot_run(const int8_t *w, const int8_t *x,
                                                       int32_t n, int32_t w_off, int32_t x_off)
{
    uint32_t acc = 0;
    int32_t k;
    for (k = 0; k < n; k++) {
        acc += (uint32_t)(((int32_t)w[k] + w_off) * ((int32_t)x[k] + x_off));
    }
    return acc;
}

/* te_dot_run over row r < (rows & ~3) of a TE_FC_QUAD_ROWS matrix m
 * (te_types.h): a run of 4 per whole word (16 bytes apart), then the row's
 * last depth % 4 bytes. Out of line, so that the rows' loop keeps its
 * registers (Cortex-M0+). */
static TE_NOINLINE TE_MAYBE_UNUSED uint32_t te_quad_row_dot(const int8_t *m, int32_t depth,
                                                            int32_t r, const int8_t *x,
                                                            int32_t w_off, int32_t x_off)
{
    const int8_t *const group = m + 4 * depth * (r / 4);
    const int32_t whole = depth & ~3;
    uint32_t acc = 0;
    int32_t i;
    for (i = 0; i < whole; i += 4) {
        acc += te_dot_run(group + 4 * i + 4 * (r % 4), x + i, 4, w_off, x_off);
    }
    return acc + te_dot_run(group + 4 * whole + (depth - whole) * (r % 4), x + whole,
                            depth - whole, w_off, x_off);
}

/* te_dot_run over row r of the [rows][depth] matrix m stored in `layout` */
static inline uint32_t te_matrix_row_dot(const int8_t *m, int32_t layout, int32_t rows,
                                         int32_t depth, int32_t r, const int8_t *x,
                                         int32_t w_off, int32_t x_off)
{
    if (layout == TE_FC_ROWS || r >= (rows & ~3)) {
        return te_dot_run(m + r * depth, x, depth, w_off, x_off);
    }
    return te_quad_row_dot(m, depth, r, x, w_off, x_off);
}

#endif /* TINYEDGE_TE_ARITH_H */
