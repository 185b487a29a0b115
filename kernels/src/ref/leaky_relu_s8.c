#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

#include <stddef.h>

/* TFLite's int8 LEAKY_RELU (see te_leaky_relu_value). */
te_status te_leaky_relu_s8(const te_leaky_relu_params *params, int32_t size,
                           const int8_t *input, int8_t *output)
{
    int32_t i;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -128 || params->input_zero_point > 127 ||
        params->output_zero_point < -128 || params->output_zero_point > 127 ||
        !te_leaky_relu_params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        const int32_t out = te_leaky_relu_value(params, input[i] - params->input_zero_point);
        output[i] = (int8_t)te_clamp_s32(out + params->output_zero_point, -128, 127);
    }
    return TE_OK;
}
