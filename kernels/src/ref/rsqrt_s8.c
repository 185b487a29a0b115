#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite Micro's int8 RSQRT: 1 / sqrt(x - zero_point) by TFLite's integer
 * inverse square root, with 20 guard bits, then rescaled to the output. */
te_status te_rsqrt_s8(const te_rsqrt_params *params, int32_t size,
                      const int8_t *input, int8_t *output)
{
    const int32_t guard_bits = 20;
    int32_t i;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -128 || params->input_zero_point > 127 ||
        params->output_zero_point < -128 || params->output_zero_point > 127 ||
        params->output_multiplier < 0 ||
        params->output_shift - guard_bits < -31 || params->output_shift > 30) {
        return TE_ARG_ERROR;
    }
    /* TFLite Micro fails the whole invocation on a negative input. */
    for (i = 0; i < size; i++) {
        if (input[i] < params->input_zero_point) {
            return TE_ARG_ERROR;
        }
    }
    for (i = 0; i < size; i++) {
        const int32_t x = input[i] - params->input_zero_point;
        int32_t out = 127; /* x == 0 reads as the largest output */
        if (x != 0) {
            int32_t multiplier, shift, scaled;
            te_inv_sqrt_multiplier_exp(x, &multiplier, &shift);
            scaled = te_mbqm(1, multiplier, shift + guard_bits);
            out = te_clamp_s32(te_mbqm(scaled, params->output_multiplier,
                                       params->output_shift - guard_bits)
                               + params->output_zero_point, -128, 127);
        }
        output[i] = (int8_t)out;
    }
    return TE_OK;
}
