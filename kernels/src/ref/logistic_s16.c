#include "tinyedge/te_kernels.h"
#include "tinyedge/te_sigmoid16.h"

#include <stddef.h>

/* LOGISTIC and TANH on int16 tensors: TFLite Micro runs the element
 * functions of the integer LSTM over the whole tensor. */

static int args_ok(int32_t multiplier, int32_t right_shift, int32_t size,
                   const int16_t *input, const int16_t *output)
{
    /* multiplier <= 32767 (or 3 << 1 for a power-of-two scale) keeps
     * x * multiplier inside int32. */
    return input != NULL && output != NULL && size >= 0 &&
           multiplier >= 1 && multiplier <= 32767 && right_shift >= 0 && right_shift <= 31;
}

te_status te_logistic_tensor_s16(int32_t multiplier, int32_t right_shift, int32_t size,
                                 const int16_t *input, int16_t *output)
{
    int32_t i;
    if (!args_ok(multiplier, right_shift, size, input, output)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = te_sigmoid16(input[i], multiplier, right_shift);
    }
    return TE_OK;
}

te_status te_tanh_tensor_s16(int32_t multiplier, int32_t right_shift, int32_t size,
                             const int16_t *input, int16_t *output)
{
    int32_t i;
    if (!args_ok(multiplier, right_shift, size, input, output)) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = te_tanh16(input[i], multiplier, right_shift);
    }
    return TE_OK;
}
