#include "tinyedge/te_kernels.h"

#include <stddef.h>

/* TFLite's Dequantize: the scale promoted to double times (q - zero_point),
 * rounded once to float. For |q - zero_point| < 2^29 (every zero point of
 * the integer types) that product is exact in double (the float scale has 24
 * significant bits), so it equals the correctly rounded float product of the
 * scale and (float)(q - zero_point): what a float multiply gives, the same
 * bits without double arithmetic, which a core without a double FPU (a
 * Cortex-M4F, M0+, M3) runs in software at some 190 instructions a value.
 * Other zero points take TFLite's double product as it is. */
#define TE_DEQUANTIZE_LOOP(params, size, input, output)                              \
    do {                                                                             \
        const float scale_ = (params)->scale;                                        \
        const int32_t zp_ = (params)->zero_point;                                    \
        int32_t i_;                                                                  \
        if (zp_ >= -65536 && zp_ <= 65536) {                                         \
            for (i_ = 0; i_ < (size); i_++) {                                        \
                (output)[i_] = scale_ * (float)((int32_t)(input)[i_] - zp_);         \
            }                                                                        \
        } else {                                                                     \
            for (i_ = 0; i_ < (size); i_++) {                                        \
                (output)[i_] = (float)((double)scale_ * ((double)(input)[i_] - (double)zp_)); \
            }                                                                        \
        }                                                                            \
    } while (0)

te_status te_dequantize_s8_f32(const te_affine_params *params, int32_t size,
                               const int8_t *input, float *output)
{
    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    TE_DEQUANTIZE_LOOP(params, size, input, output);
    return TE_OK;
}

te_status te_dequantize_u8_f32(const te_affine_params *params, int32_t size,
                               const uint8_t *input, float *output)
{
    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    TE_DEQUANTIZE_LOOP(params, size, input, output);
    return TE_OK;
}

te_status te_dequantize_s16_f32(const te_affine_params *params, int32_t size,
                                const int16_t *input, float *output)
{
    if (params == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    TE_DEQUANTIZE_LOOP(params, size, input, output);
    return TE_OK;
}
