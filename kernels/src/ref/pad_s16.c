#include "tinyedge/te_kernels.h"
#include "tinyedge/te_movement.h"

#include <stddef.h>

te_status te_pad_s16(const te_pad_params *params, const int16_t *input, int16_t *output)
{
    int16_t value;

    if (params == NULL || input == NULL || output == NULL ||
        params->pad_value < -32768 || params->pad_value > 32767) {
        return TE_ARG_ERROR;
    }
    value = (int16_t)params->pad_value;
    return te_pad_elements(params, input, output, sizeof(value), &value);
}
