#include "tinyedge/te_kernels.h"

#include <stddef.h>

/* TFLite's Dequantize: the scale promoted to double times (q - zero_point),
 * rounded once to float. */
te_status te_dequantize_s8_f32(const te_affine_params *params, int32_t size,
                               const int8_t *input, float *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (float)((double)params->scale
                            * ((double)input[i] - (double)params->zero_point));
    }
    return TE_OK;
}

te_status te_dequantize_u8_f32(const te_affine_params *params, int32_t size,
                               const uint8_t *input, float *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (float)((double)params->scale
                            * ((double)input[i] - (double)params->zero_point));
    }
    return TE_OK;
}

te_status te_dequantize_s16_f32(const te_affine_params *params, int32_t size,
                                const int16_t *input, float *output)
{
    int32_t i;

    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = (float)((double)params->scale
                            * ((double)input[i] - (double)params->zero_point));
    }
    return TE_OK;
}
