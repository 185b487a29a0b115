#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's int8 LEAKY_RELU: two rescales, chosen by the sign of the input;
 * a negative alpha multiplier is applied to the magnitude and negated. */
te_status te_leaky_relu_s8(const te_leaky_relu_params *params, int32_t size,
                           const int8_t *input, int8_t *output)
{
    int32_t i, alpha_magnitude;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -128 || params->input_zero_point > 127 ||
        params->output_zero_point < -128 || params->output_zero_point > 127 ||
        params->identity_multiplier < 0 || params->alpha_multiplier == INT32_MIN ||
        params->identity_shift < -31 || params->identity_shift > 30 ||
        params->alpha_shift < -31 || params->alpha_shift > 30) {
        return TE_ARG_ERROR;
    }
    alpha_magnitude = params->alpha_multiplier < 0 ? -params->alpha_multiplier
                                                   : params->alpha_multiplier;
    for (i = 0; i < size; i++) {
        const int32_t x = input[i] - params->input_zero_point;
        int32_t out;
        if (x >= 0) {
            out = te_mbqm(x, params->identity_multiplier, params->identity_shift);
        } else {
            out = te_mbqm(x, alpha_magnitude, params->alpha_shift);
            if (params->alpha_multiplier < 0) {
                out = -out;
            }
        }
        output[i] = (int8_t)te_clamp_s32(out + params->output_zero_point, -128, 127);
    }
    return TE_OK;
}
