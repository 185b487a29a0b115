#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* Largest element index an operand is read at (in 64 bits: no overflow). */
static int64_t te_matmul_last_index(const int32_t *batch_shape, const int32_t *batch_strides,
                                    int32_t outer, int32_t outer_stride,
                                    int32_t depth, int32_t depth_stride)
{
    int64_t last = (int64_t)(outer - 1) * outer_stride + (int64_t)(depth - 1) * depth_stride;
    int d;
    for (d = 0; d < 3; d++) {
        last += (int64_t)(batch_shape[d] - 1) * batch_strides[d];
    }
    return last;
}

te_status te_batch_matmul_s8(const te_batch_matmul_params *params,
                             const int8_t *lhs, const int8_t *rhs, int8_t *output)
{
    int32_t b0, b1, b2, i, j, k;
    int d;
    int8_t *out = output;

    if (params == NULL || lhs == NULL || rhs == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    if (params->rows < 1 || params->cols < 1 || params->depth < 1 ||
        params->lhs_row_stride < 0 || params->lhs_depth_stride < 0 ||
        params->rhs_depth_stride < 0 || params->rhs_col_stride < 0) {
        return TE_ARG_ERROR;
    }
    for (d = 0; d < 3; d++) {
        if (params->batch_shape[d] < 1 || params->lhs_batch_strides[d] < 0 ||
            params->rhs_batch_strides[d] < 0) {
            return TE_ARG_ERROR;
        }
    }
    if (te_matmul_last_index(params->batch_shape, params->lhs_batch_strides, params->rows,
                             params->lhs_row_stride, params->depth,
                             params->lhs_depth_stride) >= params->lhs_size ||
        te_matmul_last_index(params->batch_shape, params->rhs_batch_strides, params->cols,
                             params->rhs_col_stride, params->depth,
                             params->rhs_depth_stride) >= params->rhs_size) {
        return TE_ARG_ERROR;
    }
    if (params->lhs_offset < -127 || params->lhs_offset > 128 ||
        params->rhs_offset < -127 || params->rhs_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127) {
        return TE_ARG_ERROR;
    }

    for (b0 = 0; b0 < params->batch_shape[0]; b0++) {
        for (b1 = 0; b1 < params->batch_shape[1]; b1++) {
            for (b2 = 0; b2 < params->batch_shape[2]; b2++) {
                const int8_t *lhs_matrix = lhs + b0 * params->lhs_batch_strides[0]
                                           + b1 * params->lhs_batch_strides[1]
                                           + b2 * params->lhs_batch_strides[2];
                const int8_t *rhs_matrix = rhs + b0 * params->rhs_batch_strides[0]
                                           + b1 * params->rhs_batch_strides[1]
                                           + b2 * params->rhs_batch_strides[2];
                for (i = 0; i < params->rows; i++) {
                    const int8_t *lhs_row = lhs_matrix + i * params->lhs_row_stride;
                    for (j = 0; j < params->cols; j++) {
                        const int8_t *rhs_col = rhs_matrix + j * params->rhs_col_stride;
                        /* unsigned: wraps like TFLite's int32 accumulator, without UB */
                        uint32_t acc = 0;
                        int32_t result;
                        for (k = 0; k < params->depth; k++) {
                            acc += (uint32_t)(
                                ((int32_t)lhs_row[k * params->lhs_depth_stride]
                                 + params->lhs_offset)
                                * ((int32_t)rhs_col[k * params->rhs_depth_stride]
                                   + params->rhs_offset));
                        }
                        result = te_mbqm(te_wrap_s32(acc), params->output_multiplier,
                                         params->output_shift);
                        result = te_clamp_s32(te_add_wrap_s32(result, params->output_offset),
                                              -128, 127);
                        *out++ = (int8_t)result;
                    }
                }
            }
        }
    }
    return TE_OK;
}
