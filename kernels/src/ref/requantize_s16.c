#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* QUANTIZE from and to int16 (TFLite's Requantize, as te_requantize_s8_s8). */

static int params_ok(const te_requantize_params *p)
{
    return p->input_zero_point >= -32768 && p->input_zero_point <= 32767 &&
           p->output_zero_point >= -32768 && p->output_zero_point <= 32767 &&
           p->multiplier >= 0 && p->shift >= -31 && p->shift <= 30;
}

static int32_t requantize_one(const te_requantize_params *p, int32_t q)
{
    return te_add_wrap_s32(te_mbqm(q - p->input_zero_point, p->multiplier, p->shift),
                           p->output_zero_point);
}

te_status te_requantize_s16_s8(const te_requantize_params *params, int32_t size,
                               const int16_t *input, int8_t *output)
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

te_status te_requantize_s16_s32(const te_requantize_params *params, int32_t size,
                                const int16_t *input, int32_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 || !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = requantize_one(params, input[i]);
    }
    return TE_OK;
}

te_status te_requantize_s16_s16(const te_requantize_params *params, int32_t size,
                                const int16_t *input, int16_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 || !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int16_t)te_clamp_s32(requantize_one(params, input[i]), -32768, 32767);
    }
    return TE_OK;
}

te_status te_requantize_s8_s16(const te_requantize_params *params, int32_t size,
                               const int8_t *input, int16_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 || !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int16_t)te_clamp_s32(requantize_one(params, input[i]), -32768, 32767);
    }
    return TE_OK;
}
