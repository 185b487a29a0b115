#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's int8 LOGISTIC: the input rescaled to Q4.27, gemmlowp's
 * fixed-point logistic, the Q0.31 result shifted down to 8 bits. */
te_status te_logistic_s8(const te_sigmoid_params *params, int32_t size,
                         const int8_t *input, int8_t *output)
{
    int32_t i;
    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        params->input_zero_point < -128 || params->input_zero_point > 127 ||
        params->input_range_radius < 0 || params->input_multiplier < 0 ||
        params->input_left_shift < -31 || params->input_left_shift > 31) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        const int32_t x = input[i] - params->input_zero_point;
        int32_t out;
        if (x <= -params->input_range_radius) {
            out = -128;
        } else if (x >= params->input_range_radius) {
            out = 127;
        } else {
            const int32_t x_q4 = te_mbqm(x, params->input_multiplier, params->input_left_shift);
            /* Q0.31 -> 8 fractional bits, output zero point -128 */
            out = te_clamp_s32(te_rdbpot(te_logistic_q4(x_q4), 23) - 128, -128, 127);
        }
        output[i] = (int8_t)out;
    }
    return TE_OK;
}
