#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* Fixed-point formats of TFLite's int8 softmax (gemmlowp): the scaled input
 * difference is Q5.26, the sum of exponentials Q12.19. */
#define SCALED_DIFF_INTEGER_BITS 5
#define ACCUMULATION_INTEGER_BITS 12

/* exp((x - max) * beta * input_scale) in Q0.31 for a difference >= diff_min.
 * Not inlined: its two call sites would each hold a copy of the fixed-point
 * exponential (about 1 KB at -O2 on a Cortex-M4) for no measurable gain. */
static TE_NOINLINE int32_t exp_of_diff(const te_softmax_params *p, int32_t diff)
{
    const int32_t scaled = te_mbqm(diff, p->input_multiplier, p->input_left_shift);
    return te_exp_on_negative_values_q5(scaled);
}

/* One implementation for both output types: out_bits is 8 (output8) or 16
 * (output16); the probability is shifted down to out_bits and offset by the
 * type's minimum, as TFLite's templated Softmax. */
static te_status softmax_rows(const te_softmax_params *params,
                              int32_t outer_size, int32_t depth, const int8_t *input,
                              int8_t *output8, int16_t *output16, int out_bits)
{
    int32_t row, c;

    const int32_t out_min = out_bits == 16 ? -32768 : -128;
    const int32_t out_max = out_bits == 16 ? 32767 : 127;

    if (params == NULL || input == NULL || (output8 == NULL && output16 == NULL) ||
        outer_size < 1 || depth < 1) {
        return TE_ARG_ERROR;
    }
    /* What TFLite's preparation produces: a non-negative multiplier and a left
     * shift that cannot overflow any difference it lets through. */
    if (params->input_multiplier < 0 || params->input_left_shift < 0 ||
        params->input_left_shift > 31 || params->diff_min > 0 ||
        (int64_t)te_max_s32(params->diff_min, -255) * ((int64_t)1 << params->input_left_shift)
            < INT32_MIN) {
        return TE_ARG_ERROR;
    }

    for (row = 0; row < outer_size; row++) {
        const int8_t *in = input + row * depth;
        int32_t max = -128;
        int32_t sum = 0;
        int32_t reciprocal;
        int num_bits_over_unit, exponent;

        for (c = 0; c < depth; c++) {
            max = te_max_s32(max, in[c]);
        }
        for (c = 0; c < depth; c++) {
            const int32_t diff = in[c] - max;
            if (diff >= params->diff_min) {
                const int32_t e = te_fp_rescale(exp_of_diff(params, diff), 0,
                                                ACCUMULATION_INTEGER_BITS);
                /* Saturate instead of wrapping: a sum this large already
                 * makes every output zero below. */
                sum = te_min_s32(INT32_MAX - e, sum) + e;
            }
        }
        /* sum >= 1.0 (the maximum contributes exp(0)), so it is positive. */
        reciprocal = te_get_reciprocal(sum, ACCUMULATION_INTEGER_BITS, &num_bits_over_unit);
        /* Output scale 2^-out_bits: shift the Q0.31 probability down. */
        exponent = num_bits_over_unit + 31 - out_bits;

        for (c = 0; c < depth; c++) {
            const int32_t diff = in[c] - max;
            int32_t result = out_min;
            /* An exponent above 31 means a sum of exponentials >= 512, which
             * TFLite rejects; every probability then rounds to 0 (-128). */
            if (diff >= params->diff_min && exponent <= 31) {
                const int32_t prob = te_srdhm(reciprocal, exp_of_diff(params, diff));
                result = te_clamp_s32(te_rdbpot(prob, exponent) + out_min, out_min, out_max);
            }
            if (out_bits == 16) {
                output16[row * depth + c] = (int16_t)result;
            } else {
                output8[row * depth + c] = (int8_t)result;
            }
        }
    }
    return TE_OK;
}

te_status te_softmax_s8(const te_softmax_params *params,
                        int32_t outer_size, int32_t depth,
                        const int8_t *input, int8_t *output)
{
    if (output == NULL) {
        return TE_ARG_ERROR;
    }
    return softmax_rows(params, outer_size, depth, input, output, NULL, 8);
}

te_status te_softmax_s8_s16(const te_softmax_params *params,
                            int32_t outer_size, int32_t depth,
                            const int8_t *input, int16_t *output)
{
    if (output == NULL) {
        return TE_ARG_ERROR;
    }
    return softmax_rows(params, outer_size, depth, input, NULL, output, 16);
}
