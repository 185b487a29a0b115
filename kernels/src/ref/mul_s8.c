#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

/* TFLite's int8 MUL: the product of the offset inputs, rescaled once. */
static int8_t mul_one(const void *params, int8_t x, int8_t y)
{
    const te_mul_params *p = (const te_mul_params *)params;
    const int32_t product = (p->input1_offset + x) * (p->input2_offset + y);
    const int32_t out = te_mbqm(product, p->output_multiplier, p->output_shift)
                        + p->output_offset;
    return (int8_t)te_clamp_s32(out, p->activation_min, p->activation_max);
}

te_status te_mul_s8(const te_mul_params *params, const te_elementwise_shape *shape,
                    const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t size;
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    /* |product| <= 255 * 255 and a left shift of at most 15 keep the
     * product's shift inside int32 (a larger one wraps, as in TFLite). */
    if (size < 0 ||
        params->input1_offset < -127 || params->input1_offset > 128 ||
        params->input2_offset < -127 || params->input2_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->output_multiplier < 0 ||
        params->output_shift < -31 || params->output_shift > 30 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s8(shape, size, input1, input2, output, mul_one, params);
    return TE_OK;
}
