#include "tinyedge/te_kernels.h"
#include "tinyedge/te_movement.h"

#include <stddef.h>

te_status te_pad_s8(const te_pad_params *params, const int8_t *input, int8_t *output)
{
    int8_t value;

    if (params == NULL || input == NULL || output == NULL ||
        params->pad_value < -128 || params->pad_value > 127) {
        return TE_ARG_ERROR;
    }
    value = (int8_t)params->pad_value;
    return te_pad_elements(params, input, output, sizeof(value), &value);
}
