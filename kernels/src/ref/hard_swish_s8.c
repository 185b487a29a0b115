#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's int8 HARD_SWISH works on 16-bit fixed-point values. */

/* x * 2^amount saturated to int16 (amount >= 0). */
static int32_t sat_shift_left_s16(int32_t x, int32_t amount)
{
    if (x == 0) {
        return 0;
    }
    if (amount >= 16) {
        return x > 0 ? 32767 : -32768;
    }
    return te_clamp_s32(x * ((int32_t)1 << amount), -32768, 32767);
}

/* gemmlowp SaturatingRoundingDoublingHighMul for int16. */
static int32_t srdhm_s16(int32_t a, int32_t b)
{
    const int32_t ab = a * b;
    if (a == -32768 && b == -32768) {
        return 32767;
    }
    return (ab + (ab >= 0 ? (1 << 14) : (1 - (1 << 14)))) / (1 << 15);
}

/* SaturatingDoublingHighMul for int16: a * b / 2^15 truncated toward zero. */
static int32_t sdhm_s16(int32_t a, int32_t b)
{
    if (a == -32768 && b == -32768) {
        return 32767;
    }
    return (a * b) / (1 << 15);
}

/* The int16 value of x's low 16 bits (what a store to int16_t keeps). */
static int32_t wrap_s16(int32_t x)
{
    const int32_t low = (int32_t)((uint32_t)x & 0xFFFFu);
    return low >= 32768 ? low - 65536 : low;
}

te_status te_hard_swish_s8(const te_hard_swish_params *params, int32_t size,
                           const int8_t *input, int8_t *output)
{
    int32_t i;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -128 || params->input_zero_point > 127 ||
        params->output_zero_point < -128 || params->output_zero_point > 127 ||
        params->reluish_multiplier < 0 || params->reluish_multiplier > 32767 ||
        params->output_multiplier < 0 || params->output_multiplier > 32767 ||
        params->reluish_exponent < -15 || params->reluish_exponent > 15 ||
        params->output_exponent < -15 || params->output_exponent > 0) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        /* |x| <= 255, so x * 2^7 fits int16 */
        const int32_t hires = (input[i] - params->input_zero_point) * 128;
        const int32_t preshift_output = srdhm_s16(hires, params->output_multiplier);
        int32_t reluish = hires;
        int32_t out;
        if (params->reluish_exponent > 0) {
            reluish = sat_shift_left_s16(reluish, params->reluish_exponent - 1);
        }
        reluish = srdhm_s16(reluish, params->reluish_multiplier);
        if (params->reluish_exponent > 0) {
            reluish = sat_shift_left_s16(reluish, 1);
        } else if (params->reluish_exponent < 0) {
            reluish = te_rdbpot(reluish, -params->reluish_exponent);
        }
        /* from [-1, 1] to [0, 1] in Q0.15 */
        reluish = (reluish + 32768) / 2;
        out = te_rdbpot(sdhm_s16(reluish, preshift_output), -params->output_exponent);
        /* TFLite adds the zero point in int16 */
        out = wrap_s16(out + params->output_zero_point);
        output[i] = (int8_t)te_clamp_s32(out, -128, 127);
    }
    return TE_OK;
}
