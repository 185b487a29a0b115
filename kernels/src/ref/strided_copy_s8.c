#include "tinyedge/te_kernels.h"

#include <stddef.h>

/* The input elements the copy can reach: [lowest, highest], in 64 bits. */
static void reach(const te_strided_copy_params *p, int64_t *lowest, int64_t *highest)
{
    int d;
    *lowest = p->offset;
    *highest = p->offset;
    for (d = 0; d < TE_MAX_RANK; d++) {
        const int64_t span = (int64_t)(p->shape[d] - 1) * p->strides[d];
        if (span > 0) {
            *highest += span;
        } else {
            *lowest += span;
        }
    }
}

te_status te_strided_copy_s8(const te_strided_copy_params *params,
                             const int8_t *input, int8_t *output)
{
    int32_t i[TE_MAX_RANK];
    int64_t lowest, highest;
    int32_t base[TE_MAX_RANK + 1];
    int d;

    if (params == NULL || input == NULL || output == NULL || params->input_size < 0) {
        return TE_ARG_ERROR;
    }
    for (d = 0; d < TE_MAX_RANK; d++) {
        if (params->shape[d] < 0) {
            return TE_ARG_ERROR;
        }
        if (params->shape[d] == 0) {
            return TE_OK; /* an empty output */
        }
    }
    reach(params, &lowest, &highest);
    if (lowest < 0 || highest >= params->input_size) {
        return TE_ARG_ERROR;
    }
    /* Output elements in order; base[d] is the input index of the first
     * element of the current sub-block at depth d. */
    base[0] = params->offset;
    for (i[0] = 0; i[0] < params->shape[0]; i[0]++) {
        base[1] = base[0] + i[0] * params->strides[0];
        for (i[1] = 0; i[1] < params->shape[1]; i[1]++) {
            base[2] = base[1] + i[1] * params->strides[1];
            for (i[2] = 0; i[2] < params->shape[2]; i[2]++) {
                base[3] = base[2] + i[2] * params->strides[2];
                for (i[3] = 0; i[3] < params->shape[3]; i[3]++) {
                    base[4] = base[3] + i[3] * params->strides[3];
                    for (i[4] = 0; i[4] < params->shape[4]; i[4]++) {
                        const int32_t stride = params->strides[5];
                        int32_t at;
                        base[5] = base[4] + i[4] * params->strides[4];
                        at = base[5];
                        for (i[5] = 0; i[5] < params->shape[5]; i[5]++) {
                            *output++ = input[at];
                            at += stride;
                        }
                    }
                }
            }
        }
    }
    return TE_OK;
}
