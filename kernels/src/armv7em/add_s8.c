/* ADD, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/add_s8.c.
 *
 * Without broadcast, each input's share of the sum (offset, left shift,
 * rescale) depends only on its int8 value, so it is tabulated once per call
 * for the 256 values (doubled, see below; 2 KB of stack) and an element costs
 * two table loads, an add, one SMMULR for the output multiplier and three
 * instructions for the rounding shift with the output offset folded in.
 * Broadcasts, adds too small to repay the tables and output shifts below
 * -TE_ADD_MAX_OUTPUT_RIGHT_SHIFT take the reference algorithm.
 *
 * Elements are read and written one at a time in increasing order, as in the
 * reference, so the output may overlap an input as far as the memory planner
 * allows (tinyedge/planner/overlap.py, elementwise_limit).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"
#include "te_dsp.h"

#include <stddef.h>

/* Below this many elements the 512 table entries cost more than they save. */
#define TE_ADD_TABLE_MIN_ELEMENTS 64
/* Keeps the folded rounding constant plus the doubled sum inside int32. */
#define TE_ADD_MAX_OUTPUT_RIGHT_SHIFT 21

/* The reference kernel's per-element function, for the fallback. */
static int8_t add_one(const void *params, int8_t x, int8_t y)
{
    const te_add_params *p = (const te_add_params *)params;
    const int32_t in1 = (p->input1_offset + x) * ((int32_t)1 << p->left_shift);
    const int32_t in2 = (p->input2_offset + y) * ((int32_t)1 << p->left_shift);
    const int32_t scaled1 = te_mbqm(in1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = te_mbqm(in2, p->input2_multiplier, p->input2_shift);
    const int32_t sum = te_mbqm(scaled1 + scaled2, p->output_multiplier, p->output_shift);
    return (int8_t)te_clamp_s32(sum + p->output_offset, p->activation_min, p->activation_max);
}

/* round(a * b / 2^32), ties up: te_srdhm(a / 2, b) for an even a and b >= 0 */
static inline int32_t smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}

/* te_rdbpot(h, e) + offset, with bias = 2^e + offset * 2^(e + 1), as
 * (2 h + bias + (h < 0 ? -1 : 0)) >> (e + 1): the doubled numerator is even
 * before the -1, so the -1 changes the quotient exactly when a negative h
 * sits on a tie, rounding it away from zero. The caller keeps the sum inside
 * int32 and e in [0, 30]. */
TE_DSP_INLINE int32_t rounding_shift(int32_t h, int32_t bias, int32_t e)
{
    return te_asr_s32(bias + 2 * h + te_asr_s32(h, 31), e + 1);
}

/* table[(uint8_t)x] = 2 * te_mbqm((x + offset) << left_shift, multiplier, shift)
 * for shift <= 0, which is te_rdbpot(te_srdhm(a, multiplier), -shift):
 * |a| <= 255 << 20 < 2^28, so te_srdhm(a, m) = SMMULR(2 a, m), and from
 * e = 30 on te_rdbpot gives 0, hence the clamp. */
static void fill_table(int32_t *table, int32_t offset, int32_t left_shift,
                       int32_t multiplier, int32_t shift)
{
    const int32_t e = shift < -30 ? 30 : -shift;
    const int32_t bias = (int32_t)1 << e;
    const int32_t step = (int32_t)1 << (left_shift + 1);
    int32_t doubled = (offset - 128) * step; /* 2 a for x = -128 */
    int32_t x;
    for (x = -128; x <= 127; x++) {
        table[(uint8_t)x] = 2 * rounding_shift(smmulr(doubled, multiplier), bias, e);
        doubled += step;
    }
}

/* One element of the table path: the tables hold twice each input's rescaled
 * value, so their sum is the 2 s for which SMMULR(2 s, m) = te_srdhm(s, m)
 * (|2 s| < 2^30); |te_srdhm| < 2^29 and e <= 21 keep rounding_shift's sum
 * inside int32. */
__attribute__((always_inline)) static inline int8_t add_element(
    const int32_t *table1, const int32_t *table2, int8_t x, int8_t y, int32_t multiplier,
    int32_t bias, int32_t right_shift, int full_range, int32_t lo, int32_t hi)
{
    const int32_t high = smmulr(table1[(uint8_t)x] + table2[(uint8_t)y], multiplier);
    const int32_t value = rounding_shift(high, bias, right_shift);
    return (int8_t)(full_range ? __ssat(value, 8) : te_clamp_s32(value, lo, hi));
}

/* The table path, four elements per iteration. full_range is a constant at
 * each call, so each call site gets its own loop (SSAT or the general clamp). */
__attribute__((always_inline)) static inline void add_tabulated(
    const te_add_params *p, int32_t size, const int8_t *input1, const int8_t *input2,
    int8_t *output, int full_range)
{
    int32_t table1[256], table2[256];
    const int32_t right_shift = -p->output_shift;
    const int32_t bias = ((int32_t)1 << right_shift)
                         + p->output_offset * ((int32_t)1 << (right_shift + 1));
    const int32_t multiplier = p->output_multiplier;
    const int32_t lo = p->activation_min, hi = p->activation_max;
    int32_t k = 0;

    fill_table(table1, p->input1_offset, p->left_shift, p->input1_multiplier, p->input1_shift);
    fill_table(table2, p->input2_offset, p->left_shift, p->input2_multiplier, p->input2_shift);
    for (; k + 4 <= size; k += 4) {
        output[k] = add_element(table1, table2, input1[k], input2[k], multiplier, bias,
                                right_shift, full_range, lo, hi);
        output[k + 1] = add_element(table1, table2, input1[k + 1], input2[k + 1], multiplier,
                                    bias, right_shift, full_range, lo, hi);
        output[k + 2] = add_element(table1, table2, input1[k + 2], input2[k + 2], multiplier,
                                    bias, right_shift, full_range, lo, hi);
        output[k + 3] = add_element(table1, table2, input1[k + 3], input2[k + 3], multiplier,
                                    bias, right_shift, full_range, lo, hi);
    }
    for (; k < size; k++) {
        output[k] = add_element(table1, table2, input1[k], input2[k], multiplier, bias,
                                right_shift, full_range, lo, hi);
    }
}

te_status te_add_s8(const te_add_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t size;

    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    if (size < 0) {
        return TE_ARG_ERROR;
    }
    /* the reference kernel's ranges, which keep every intermediate in int32 */
    if (params->input1_offset < -127 || params->input1_offset > 128 ||
        params->input2_offset < -127 || params->input2_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->left_shift < 0 || params->left_shift > 20 ||
        params->input1_multiplier < 0 || params->input2_multiplier < 0 ||
        params->output_multiplier < 0 ||
        params->input1_shift > 0 || params->input2_shift > 0 || params->output_shift > 0 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    if (shape->broadcast || size < TE_ADD_TABLE_MIN_ELEMENTS ||
        params->output_shift < -TE_ADD_MAX_OUTPUT_RIGHT_SHIFT) {
        te_elementwise_apply_s8(shape, size, input1, input2, output, add_one, params);
    } else if (params->activation_min == -128 && params->activation_max == 127) {
        add_tabulated(params, size, input1, input2, output, 1);
    } else {
        add_tabulated(params, size, input1, input2, output, 0);
    }
    return TE_OK;
}
