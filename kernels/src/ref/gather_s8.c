#include "tinyedge/te_kernels.h"

#include <stddef.h>
#include <string.h>

te_status te_gather_s8(const te_gather_params *params, const int32_t *positions,
                       const int8_t *input, int8_t *output)
{
    int32_t b, o, c;
    const te_gather_params *p = params;

    if (p == NULL || positions == NULL || input == NULL || output == NULL ||
        p->batch < 0 || p->outer < 0 || p->axis_size < 0 || p->inner < 0 || p->coords < 0) {
        return TE_ARG_ERROR;
    }
    for (b = 0; b < p->batch; b++) {
        for (o = 0; o < p->outer; o++) {
            const int8_t *block = input + ((size_t)b * (size_t)p->outer + (size_t)o) *
                                              (size_t)p->axis_size * (size_t)p->inner;
            for (c = 0; c < p->coords; c++) {
                const int32_t at = positions[(size_t)b * (size_t)p->coords + (size_t)c];
                if (at < 0 || at >= p->axis_size) {
                    return TE_ARG_ERROR; /* as TFLite Micro: out-of-range positions fail */
                }
                memcpy(output, block + (size_t)at * (size_t)p->inner, (size_t)p->inner);
                output += p->inner;
            }
        }
    }
    return TE_OK;
}
