#include "tinyedge/te_kernels.h"

#include <stddef.h>

/* An int8 -> int8 function by table: output = table[input + 128]. */
te_status te_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output)
{
    int32_t i;
    if (table == NULL || input == NULL || output == NULL || size < 0) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < size; i++) {
        output[i] = table[input[i] + 128];
    }
    return TE_OK;
}
