#include "tinyedge/te_kernels.h"

#include <stddef.h>
#include <string.h>

static int params_ok(const te_concat_params *p)
{
    int32_t i;
    if (p == NULL || p->chunks == NULL || p->outer < 0 || p->count < 1) {
        return 0;
    }
    for (i = 0; i < p->count; i++) {
        if (p->chunks[i] < 0) {
            return 0;
        }
    }
    return 1;
}

te_status te_concatenation_s8(const te_concat_params *params, const int8_t *const *inputs,
                              int8_t *output)
{
    int32_t k, i;

    if (!params_ok(params) || inputs == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < params->count; i++) {
        if (inputs[i] == NULL) {
            return TE_ARG_ERROR;
        }
    }
    for (k = 0; k < params->outer; k++) {
        for (i = 0; i < params->count; i++) {
            const int32_t n = params->chunks[i];
            /* memmove: the planner may place the output over an input. */
            memmove(output, inputs[i] + (size_t)k * (size_t)n, (size_t)n);
            output += n;
        }
    }
    return TE_OK;
}

te_status te_split_s8(const te_concat_params *params, const int8_t *input,
                      int8_t *const *outputs)
{
    int32_t k, i;

    if (!params_ok(params) || input == NULL || outputs == NULL) {
        return TE_ARG_ERROR;
    }
    for (i = 0; i < params->count; i++) {
        if (outputs[i] == NULL) {
            return TE_ARG_ERROR;
        }
    }
    for (k = 0; k < params->outer; k++) {
        for (i = 0; i < params->count; i++) {
            const int32_t n = params->chunks[i];
            memcpy(outputs[i] + (size_t)k * (size_t)n, input, (size_t)n);
            input += n;
        }
    }
    return TE_OK;
}
