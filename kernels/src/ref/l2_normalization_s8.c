#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's int8 L2_NORMALIZATION over the last dimension: the sum of
 * squares' inverse square root as a multiplier, output scale 1/128. */
te_status te_l2_normalization_s8(int32_t input_zero_point, int32_t outer_size, int32_t depth,
                                 const int8_t *input, int8_t *output)
{
    int32_t row, c;
    /* 255^2 * 33025 < 2^31: the sum of squares cannot overflow */
    if (input == NULL || output == NULL || outer_size < 0 || depth < 1 || depth > 33025 ||
        input_zero_point < -128 || input_zero_point > 127) {
        return TE_ARG_ERROR;
    }
    for (row = 0; row < outer_size; row++) {
        const int8_t *in = input + (int64_t)row * depth;
        int8_t *out = output + (int64_t)row * depth;
        int32_t sum = 0, multiplier, shift;
        for (c = 0; c < depth; c++) {
            const int32_t x = in[c] - input_zero_point;
            sum += x * x;
        }
        te_inv_sqrt_multiplier_exp(sum, &multiplier, &shift);
        for (c = 0; c < depth; c++) {
            const int32_t x = in[c] - input_zero_point;
            out[c] = (int8_t)te_clamp_s32(te_mbqm(x, multiplier, shift + 7), -128, 127);
        }
    }
    return TE_OK;
}
