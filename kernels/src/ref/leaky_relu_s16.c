#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

#include <stddef.h>

/* TFLite's int16 LEAKY_RELU: te_leaky_relu_s8 with int16 zero points and clamp. */
te_status te_leaky_relu_s16(const te_leaky_relu_params *params, int32_t size,
                            const int16_t *input, int16_t *output)
{
    int32_t i;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -32768 || params->input_zero_point > 32767 ||
        params->output_zero_point < -32768 || params->output_zero_point > 32767 ||
        !te_leaky_relu_params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        const int32_t out = te_leaky_relu_value(params, input[i] - params->input_zero_point);
        output[i] = (int16_t)te_clamp_s32(te_add_wrap_s32(out, params->output_zero_point),
                                          -32768, 32767);
    }
    return TE_OK;
}
