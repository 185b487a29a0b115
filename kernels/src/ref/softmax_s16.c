#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's int16 table lookup: 512 steps of 128 input values, linear
 * interpolation from the step's base to the next entry. */
static int16_t lut_lookup(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + te_asr_s32(value, 7);
    const int32_t offset = (int32_t)((uint32_t)(int32_t)value & 0x7Fu);
    const int32_t slope = lut[index + 1] - lut[index];
    return (int16_t)(lut[index] + te_asr_s32(slope * offset + 64, 7));
}

/* floor(x / 2^shift) of an int64, without right-shifting a negative value. */
static int64_t asr_s64(int64_t x, int shift)
{
    return x >= 0 ? (x >> shift) : ~((~x) >> shift);
}

te_status te_softmax_s16(const te_softmax_s16_params *params, int32_t outer_size,
                         int32_t depth, const int16_t *input, int16_t *output)
{
    int32_t row, c;

    if (params == NULL || input == NULL || output == NULL || params->exp_lut == NULL ||
        params->one_over_one_plus_x_lut == NULL || outer_size < 0 || depth < 1 ||
        depth > 65536 || params->input_multiplier < 0 ||
        params->input_left_shift < -31 || params->input_left_shift > 30) {
        return TE_ARG_ERROR;
    }
    for (row = 0; row < outer_size; row++) {
        const int16_t *in = input + row * depth;
        int16_t *out = output + row * depth;
        int32_t max_in_row = -32768;
        uint32_t sum_of_exps = 0; /* Q16.15; depth <= 65536 keeps it below 2^31 */
        int headroom_plus_one, right_shift;
        int32_t shifted_sum;
        int16_t reciprocal;

        for (c = 0; c < depth; c++) {
            max_in_row = te_max_s32(max_in_row, in[c]);
        }
        for (c = 0; c < depth; c++) {
            /* [-65535, 0] is [-10, 0]; recentred on the table's [-32768, 32767] */
            const int32_t scaled = te_mbqm(in[c] - max_in_row, params->input_multiplier,
                                           params->input_left_shift);
            const int32_t centred = te_clamp_s32(te_add_wrap_s32(scaled, 32767), -32768, 32767);
            out[c] = lut_lookup((int16_t)centred, params->exp_lut);
            sum_of_exps += (uint32_t)(int32_t)out[c];
        }
        /* 1 / sum: the sum normalized to [1, 2) in Q1.15, minus 1 and
         * recentred, through the 1 / (1 + x) table. */
        headroom_plus_one = te_clz_u32(sum_of_exps);
        if (headroom_plus_one < 1 || headroom_plus_one > 30) {
            return TE_ARG_ERROR; /* a sum of exponentials TFLite cannot produce */
        }
        shifted_sum = (int32_t)((((uint64_t)sum_of_exps << (headroom_plus_one - 1)) + (1u << 13))
                                >> 14);
        reciprocal = lut_lookup((int16_t)te_clamp_s32(shifted_sum - ((1 << 15) + (1 << 16)),
                                                      -32768, 32767),
                                params->one_over_one_plus_x_lut);
        right_shift = 31 - headroom_plus_one;
        for (c = 0; c < depth; c++) {
            const int64_t scaled = asr_s64((int64_t)out[c] * reciprocal
                                           + ((int64_t)1 << (right_shift - 1)), right_shift);
            out[c] = (int16_t)(scaled < 0 ? 0 : (scaled > 32767 ? 32767 : scaled));
        }
    }
    return TE_OK;
}
