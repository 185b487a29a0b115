#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

/* TFLite's int8 PRELU: x >= 0 rescaled by multiplier 1, x < 0 times alpha
 * rescaled by multiplier 2. */
static int8_t prelu_one(const void *params, int8_t x, int8_t alpha)
{
    const te_prelu_params *p = (const te_prelu_params *)params;
    const int32_t input = p->input_offset + x;
    int32_t out;
    if (input >= 0) {
        out = te_mbqm(input, p->output_multiplier_1, p->output_shift_1);
    } else {
        out = te_mbqm(input * (p->alpha_offset + alpha), p->output_multiplier_2,
                      p->output_shift_2);
    }
    return (int8_t)te_clamp_s32(out + p->output_offset, -128, 127);
}

te_status te_prelu_s8(const te_prelu_params *params, const te_elementwise_shape *shape,
                      const int8_t *input, const int8_t *alpha, int8_t *output)
{
    int32_t size;
    if (params == NULL || shape == NULL || input == NULL || alpha == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    if (size < 0 ||
        params->input_offset < -127 || params->input_offset > 128 ||
        params->alpha_offset < -127 || params->alpha_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->output_multiplier_1 < 0 || params->output_multiplier_2 < 0 ||
        params->output_shift_1 < -31 || params->output_shift_1 > 30 ||
        params->output_shift_2 < -31 || params->output_shift_2 > 30) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s8(shape, size, input, alpha, output, prelu_one, params);
    return TE_OK;
}
