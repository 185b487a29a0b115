#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* Beyond this magnitude every int8 or int16 result saturates, whatever the
 * zero point; clamping first keeps the float -> int conversion defined (inf
 * included). */
#define QUANTIZE_LIMIT 65536.0f

/* TFLite's AffineQuantize of one value before the clamp to the output type:
 * round(x / scale) (division in float, half away from zero) + zero_point. */
static int32_t quantize_one(float x, float scale, int32_t zero_point)
{
    float scaled = x / scale;
    int32_t rounded;
    if (scaled != scaled) {
        return zero_point; /* NaN */
    }
    if (scaled > QUANTIZE_LIMIT) {
        scaled = QUANTIZE_LIMIT;
    } else if (scaled < -QUANTIZE_LIMIT) {
        scaled = -QUANTIZE_LIMIT;
    }
    /* Round half away from zero (std::round) without libm: the
     * fraction scaled - trunc(scaled) is exact in float. */
    rounded = (int32_t)scaled;
    if (scaled - (float)rounded >= 0.5f) {
        rounded += 1;
    } else if (scaled - (float)rounded <= -0.5f) {
        rounded -= 1;
    }
    return rounded + zero_point;
}

te_status te_quantize_f32_s8(const te_affine_params *params, int32_t size,
                             const float *input, int8_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        !(params->scale > 0.0f) ||
        params->zero_point < -128 || params->zero_point > 127) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int8_t)te_clamp_s32(quantize_one(input[i], params->scale,
                                                      params->zero_point), -128, 127);
    }
    return TE_OK;
}

te_status te_quantize_f32_s16(const te_affine_params *params, int32_t size,
                              const float *input, int16_t *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0 ||
        !(params->scale > 0.0f) ||
        params->zero_point < -32768 || params->zero_point > 32767) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (int16_t)te_clamp_s32(quantize_one(input[i], params->scale,
                                                       params->zero_point), -32768, 32767);
    }
    return TE_OK;
}
