#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* TFLite's Requantize of one value: MultiplyByQuantizedMultiplier on the
 * zero-point-free input, plus the output zero point. The caller clamps. */
static int32_t requantize_one(const te_requantize_params *p, int32_t q)
{
    return te_add_wrap_s32(te_mbqm(q - p->input_zero_point, p->multiplier, p->shift),
                           p->output_zero_point);
}

/* Zero points outside [-255, 255] fit no 8-bit tensor (the bound also keeps
 * q - zero_point inside int32). */
static int params_ok(const te_requantize_params *p)
{
    return p->input_zero_point >= -255 && p->input_zero_point <= 255 &&
           p->output_zero_point >= -255 && p->output_zero_point <= 255 &&
           p->multiplier >= 0;
}

te_status te_requantize_s8_s8(const te_requantize_params *params, int32_t size,
                              const int8_t *input, int8_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 || !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int8_t)te_clamp_s32(requantize_one(params, input[i]), -128, 127);
    }
    return TE_OK;
}

te_status te_requantize_u8_s8(const te_requantize_params *params, int32_t size,
                              const uint8_t *input, int8_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 || !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int8_t)te_clamp_s32(requantize_one(params, input[i]), -128, 127);
    }
    return TE_OK;
}

te_status te_requantize_s8_u8(const te_requantize_params *params, int32_t size,
                              const int8_t *input, uint8_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 || !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (uint8_t)te_clamp_s32(requantize_one(params, input[i]), 0, 255);
    }
    return TE_OK;
}
