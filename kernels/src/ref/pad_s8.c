#include "tinyedge/te_kernels.h"

#include <stddef.h>
#include <string.h>

te_status te_pad_s8(const te_pad_params *params, const int8_t *input, int8_t *output)
{
    int32_t out_shape[TE_MAX_RANK];
    int32_t o[TE_MAX_RANK - 1];
    int32_t rows = 1;
    int32_t row;
    int32_t in_row_stride[TE_MAX_RANK - 1];
    const int last = TE_MAX_RANK - 1;
    int8_t value;
    int d;

    if (params == NULL || input == NULL || output == NULL ||
        params->pad_value < -128 || params->pad_value > 127) {
        return TE_ARG_ERROR;
    }
    value = (int8_t)params->pad_value;
    for (d = 0; d < TE_MAX_RANK; d++) {
        if (params->input_shape[d] < 0 || params->pad_before[d] < 0 ||
            params->pad_after[d] < 0) {
            return TE_ARG_ERROR;
        }
        out_shape[d] = params->input_shape[d] + params->pad_before[d] + params->pad_after[d];
    }
    /* Row strides of the input (all dims but the last, in rows). */
    in_row_stride[last - 1] = 1;
    for (d = last - 2; d >= 0; d--) {
        in_row_stride[d] = in_row_stride[d + 1] * params->input_shape[d + 1];
    }
    for (d = 0; d < last; d++) {
        rows *= out_shape[d];
        o[d] = 0;
    }
    for (row = 0; row < rows; row++) {
        int inside = 1;
        int32_t in_row = 0;
        for (d = 0; d < last; d++) {
            const int32_t i = o[d] - params->pad_before[d];
            if (i < 0 || i >= params->input_shape[d]) {
                inside = 0;
                break;
            }
            in_row += i * in_row_stride[d];
        }
        if (!inside || params->input_shape[last] == 0) {
            memset(output, value, (size_t)out_shape[last]);
        } else {
            memset(output, value, (size_t)params->pad_before[last]);
            /* memmove: the planner may place the output over the input. */
            memmove(output + params->pad_before[last], input + in_row * params->input_shape[last],
                    (size_t)params->input_shape[last]);
            memset(output + params->pad_before[last] + params->input_shape[last], value,
                   (size_t)params->pad_after[last]);
        }
        output += out_shape[last];
        /* next output row index */
        for (d = last - 1; d >= 0; d--) {
            if (++o[d] < out_shape[d]) {
                break;
            }
            o[d] = 0;
        }
    }
    return TE_OK;
}
