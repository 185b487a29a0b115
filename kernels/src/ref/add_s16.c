#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_elementwise.h"

#include <stddef.h>

/* TFLite's general ADD/SUB path on int16 (zero points 0): both inputs are
 * shifted left by left_shift (15), rescaled to a common scale, added or
 * subtracted (TFLite's multipliers of at most 1/2 keep that inside int32;
 * others wrap), then rescaled to the output. */
static int32_t rescaled_input(int16_t x, int32_t left_shift, int32_t multiplier, int32_t shift)
{
    return te_mbqm((int32_t)x * ((int32_t)1 << left_shift), multiplier, shift);
}

static int16_t finish(const te_add_params *p, int32_t raw)
{
    return (int16_t)te_clamp_s32(te_mbqm(raw, p->output_multiplier, p->output_shift),
                                 p->activation_min, p->activation_max);
}

static int16_t add_one(const void *params, int16_t x, int16_t y)
{
    const te_add_params *p = (const te_add_params *)params;
    return finish(p, te_add_wrap_s32(
        rescaled_input(x, p->left_shift, p->input1_multiplier, p->input1_shift),
        rescaled_input(y, p->left_shift, p->input2_multiplier, p->input2_shift)));
}

static int16_t sub_one(const void *params, int16_t x, int16_t y)
{
    const te_add_params *p = (const te_add_params *)params;
    return finish(p, te_add_wrap_s32(
        rescaled_input(x, p->left_shift, p->input1_multiplier, p->input1_shift),
        -rescaled_input(y, p->left_shift, p->input2_multiplier, p->input2_shift)));
}

static te_status apply(const te_add_params *params, const te_elementwise_shape *shape,
                       const int16_t *input1, const int16_t *input2, int16_t *output,
                       te_binary_s16_fn fn)
{
    int32_t size;

    if (params == NULL || shape == NULL || input1 == NULL || input2 == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    size = te_elementwise_size(shape);
    /* |x| <= 2^15 shifted left by at most 15 stays inside int32; rescales
     * never grow a value (shifts <= 0). */
    if (size < 0 ||
        params->input1_offset != 0 || params->input2_offset != 0 || params->output_offset != 0 ||
        params->left_shift < 0 || params->left_shift > 15 ||
        params->input1_multiplier < 0 || params->input2_multiplier < 0 ||
        params->output_multiplier < 0 ||
        params->input1_shift > 0 || params->input2_shift > 0 || params->output_shift > 0 ||
        params->input1_shift < -31 || params->input2_shift < -31 || params->output_shift < -31 ||
        params->activation_min < -32768 || params->activation_max > 32767 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    te_elementwise_apply_s16(shape, size, input1, input2, output, fn, params);
    return TE_OK;
}

te_status te_add_s16(const te_add_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output)
{
    return apply(params, shape, input1, input2, output, add_one);
}

te_status te_sub_s16(const te_add_params *params, const te_elementwise_shape *shape,
                     const int16_t *input1, const int16_t *input2, int16_t *output)
{
    return apply(params, shape, input1, input2, output, sub_one);
}
