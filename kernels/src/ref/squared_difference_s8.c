#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

/* TFLite's int8 SQUARED_DIFFERENCE: both inputs at a common scale with 7
 * bits of headroom, the difference squared, then rescaled to the output. */
static int8_t squared_difference_one(const void *params, int8_t x, int8_t y)
{
    const te_add_params *p = (const te_add_params *)params;
    const int32_t in1 = (p->input1_offset + x) * ((int32_t)1 << p->left_shift);
    const int32_t in2 = (p->input2_offset + y) * ((int32_t)1 << p->left_shift);
    const int32_t diff = te_mbqm(in1, p->input1_multiplier, p->input1_shift)
                         - te_mbqm(in2, p->input2_multiplier, p->input2_shift);
    const int32_t out = te_mbqm(te_wrap_s32((uint32_t)diff * (uint32_t)diff), p->output_multiplier, p->output_shift)
                        + p->output_offset;
    return (int8_t)te_clamp_s32(out, p->activation_min, p->activation_max);
}

te_status te_squared_difference_s8(const te_add_params *params,
                                   const te_elementwise_shape *shape,
                                   const int8_t *input1, const int8_t *input2,
                                   int8_t *output)
{
    int32_t size;
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    /* The input rescales never grow a value, the output one may (shift
     * <= 30). With TFLite's multipliers (at most 1/2) the square fits int32;
     * with larger ones it wraps as TFLite's int32 product would. */
    if (size < 0 ||
        params->input1_offset < -127 || params->input1_offset > 128 ||
        params->input2_offset < -127 || params->input2_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->left_shift < 0 || params->left_shift > 7 ||
        params->input1_multiplier < 0 || params->input2_multiplier < 0 ||
        params->output_multiplier < 0 ||
        params->input1_shift > 0 || params->input2_shift > 0 ||
        params->output_shift < -31 || params->output_shift > 30 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s8(shape, size, input1, input2, output, squared_difference_one,
                            params);
    return TE_OK;
}
