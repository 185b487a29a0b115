#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

#include <stddef.h>

/* TFLite's AddFunc: both inputs are brought to a common scale with 20 bits of
 * headroom, summed, then rescaled to the output. */
static int8_t add_one(const void *params, int8_t x, int8_t y)
{
    const te_add_params *p = (const te_add_params *)params;
    const int32_t in1 = (p->input1_offset + x) * ((int32_t)1 << p->left_shift);
    const int32_t in2 = (p->input2_offset + y) * ((int32_t)1 << p->left_shift);
    const int32_t scaled1 = te_mbqm(in1, p->input1_multiplier, p->input1_shift);
    const int32_t scaled2 = te_mbqm(in2, p->input2_multiplier, p->input2_shift);
    const int32_t sum = te_mbqm(scaled1 + scaled2, p->output_multiplier, p->output_shift);
    return (int8_t)te_clamp_s32(sum + p->output_offset, p->activation_min, p->activation_max);
}

te_status te_add_s8(const te_add_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t size;

    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    if (size < 0) {
        return TE_ARG_ERROR;
    }
    /* Ranges that keep every intermediate inside int32: |input + offset| <= 255,
     * shifted left by at most 20, and the rescales never grow a value
     * (shifts <= 0). */
    if (params->input1_offset < -127 || params->input1_offset > 128 ||
        params->input2_offset < -127 || params->input2_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->left_shift < 0 || params->left_shift > 20 ||
        params->input1_multiplier < 0 || params->input2_multiplier < 0 ||
        params->output_multiplier < 0 ||
        params->input1_shift > 0 || params->input2_shift > 0 || params->output_shift > 0 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    te_elementwise_apply_s8(shape, size, input1, input2, output, add_one, params);
    return TE_OK;
}
