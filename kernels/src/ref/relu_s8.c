#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite Micro's int8 RELU: rescale to the output, then clamp. */
te_status te_relu_s8(const te_relu_params *params, int32_t size,
                     const int8_t *input, int8_t *output)
{
    int32_t i;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -128 || params->input_zero_point > 127 ||
        params->output_zero_point < -128 || params->output_zero_point > 127 ||
        params->output_multiplier < 0 ||
        params->output_shift < -31 || params->output_shift > 30 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        const int32_t out = params->output_zero_point +
            te_mbqm(input[i] - params->input_zero_point, params->output_multiplier,
                    params->output_shift);
        output[i] = (int8_t)te_clamp_s32(out, params->activation_min, params->activation_max);
    }
    return TE_OK;
}

/* TFLite Micro's int8 RELU6: a clamp of the raw values (no rescale). */
te_status te_relu6_s8(int32_t lower, int32_t upper, int32_t size,
                      const int8_t *input, int8_t *output)
{
    int32_t i;
    if (input == NULL || output == NULL || size < 0 ||
        lower < -128 || upper > 127 || lower > upper) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int8_t)te_clamp_s32(input[i], lower, upper);
    }
    return TE_OK;
}
