#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

#include <stddef.h>

/* TFLite's int16 MUL (zero points 0): the product, rescaled once. */
static int16_t mul_one(const void *params, int16_t x, int16_t y)
{
    const te_mul_params *p = (const te_mul_params *)params;
    const int32_t out = te_mbqm((int32_t)x * (int32_t)y, p->output_multiplier, p->output_shift);
    return (int16_t)te_clamp_s32(out, p->activation_min, p->activation_max);
}

te_status te_mul_s16(const te_mul_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output)
{
    int32_t size;
    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    /* |product| <= 2^30; a left shift wraps as in TFLite (te_mbqm). */
    if (size < 0 ||
        params->input1_offset != 0 || params->input2_offset != 0 || params->output_offset != 0 ||
        params->output_multiplier < 0 ||
        params->output_shift < -31 || params->output_shift > 30 ||
        params->activation_min < -32768 || params->activation_max > 32767 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s16(shape, size, input1, input2, output, mul_one, params);
    return TE_OK;
}
