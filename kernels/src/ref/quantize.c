#include "tinyedge/te_kernels.h"

#include <stddef.h>

/* Beyond this magnitude every int8 result saturates, whatever the zero point;
 * clamping first keeps the float -> int conversion defined (inf included). */
#define QUANTIZE_LIMIT 65536.0f

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
        /* TFLite divides in float (AffineQuantize: val / (float)scale). */
        float scaled = input[i] / params->scale;
        int32_t rounded, q;
        if (scaled != scaled) {
            output[i] = (int8_t)params->zero_point; /* NaN */
            continue;
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
        q = rounded + params->zero_point;
        output[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
    }
    return TE_OK;
}
