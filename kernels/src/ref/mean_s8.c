#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* The wrapping int32 sum of the reduced block starting at input[start]. */
static int32_t block_sum(const te_reduce_params *p, const int8_t *input, int32_t start)
{
    int32_t idx[TE_MAX_RANK];
    const int first = TE_MAX_RANK - p->reduced_rank;
    uint32_t sum = 0;
    int d;

    for (d = first; d < TE_MAX_RANK; d++) {
        idx[d] = 0;
    }
    for (;;) {
        int32_t at = start;
        for (d = first; d < TE_MAX_RANK; d++) {
            at += idx[d] * p->strides[d];
        }
        sum += (uint32_t)(int32_t)input[at];
        for (d = TE_MAX_RANK - 1; d >= first; d--) {
            if (++idx[d] < p->shape[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < first) {
            return te_wrap_s32(sum);
        }
    }
}

te_status te_mean_s8(const te_reduce_params *params, const int8_t *input, int8_t *output)
{
    int32_t idx[TE_MAX_RANK];
    int kept;
    int d;
    int32_t count = 1;

    if (params == NULL || input == NULL || output == NULL ||
        params->reduced_rank < 1 || params->reduced_rank > TE_MAX_RANK ||
        params->multiplier < 0) {
        return TE_ARG_ERROR;
    }
    for (d = 0; d < TE_MAX_RANK; d++) {
        if (params->shape[d] < 1 || params->strides[d] < 0) {
            return TE_ARG_ERROR;
        }
        if (d >= TE_MAX_RANK - params->reduced_rank) {
            count *= params->shape[d];
        }
    }
    if (count != params->count) {
        return TE_ARG_ERROR;
    }
    kept = TE_MAX_RANK - params->reduced_rank;
    for (d = 0; d < kept; d++) {
        idx[d] = 0;
    }
    for (;;) {
        int32_t start = 0;
        int32_t sum;
        int32_t value;
        int64_t shifted;
        for (d = 0; d < kept; d++) {
            start += idx[d] * params->strides[d];
        }
        sum = block_sum(params, input, start);
        /* TFLite computes sum - zero_point * count in 64 bits, then keeps the
         * low 32 bits */
        shifted = (int64_t)sum - (int64_t)params->input_zero_point * count;
        value = te_mbqm(te_wrap_s32((uint32_t)(uint64_t)shifted), params->multiplier,
                        params->shift);
        value = te_add_wrap_s32(value, params->output_zero_point);
        *output++ = (int8_t)te_clamp_s32(value, -128, 127);
        for (d = kept - 1; d >= 0; d--) {
            if (++idx[d] < params->shape[d]) {
                break;
            }
            idx[d] = 0;
        }
        if (d < 0) {
            return TE_OK;
        }
    }
}
