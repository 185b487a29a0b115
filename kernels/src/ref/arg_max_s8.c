#include "tinyedge/te_kernels.h"

#include <stddef.h>

te_status te_arg_max_s8(const te_arg_params *params, const int8_t *input, int32_t *output)
{
    int32_t o, i, a;
    const te_arg_params *p = params;

    if (p == NULL || input == NULL || output == NULL || p->outer < 0 || p->axis_size < 1 ||
        p->inner < 0 || (p->is_min != 0 && p->is_min != 1)) {
        return TE_ARG_ERROR;
    }
    for (o = 0; o < p->outer; o++) {
        const int8_t *block = input + (size_t)o * (size_t)p->axis_size * (size_t)p->inner;
        for (i = 0; i < p->inner; i++) {
            int8_t best = block[i];
            int32_t best_index = 0;
            for (a = 1; a < p->axis_size; a++) {
                const int8_t v = block[(size_t)a * (size_t)p->inner + (size_t)i];
                /* strict comparison: the first extreme value wins */
                if (p->is_min ? (v < best) : (v > best)) {
                    best = v;
                    best_index = a;
                }
            }
            *output++ = best_index;
        }
    }
    return TE_OK;
}
