/* The raw data movement shared by the int8 and int16 kernels of PAD and the
 * strided copies (internal header): the same walks over elements of
 * element_size bytes, which these ops never interpret.
 */
#ifndef TINYEDGE_TE_MOVEMENT_H
#define TINYEDGE_TE_MOVEMENT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tinyedge/te_types.h"

/* The input elements a strided copy can reach: [lowest, highest], in 64 bits. */
static inline void te_strided_copy_reach(const te_strided_copy_params *p, int64_t *lowest,
                                         int64_t *highest)
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

/* te_strided_copy_params over elements of element_size (<= 8) bytes. Each
 * element is read whole just before it is written, in output order. */
static inline te_status te_strided_copy_elements(const te_strided_copy_params *params,
                                                 const void *input, void *output,
                                                 size_t element_size)
{
    const unsigned char *in = (const unsigned char *)input;
    unsigned char *out = (unsigned char *)output;
    unsigned char element[8];
    int32_t i[TE_MAX_RANK];
    int64_t lowest, highest;
    int32_t base[TE_MAX_RANK + 1];
    int d;

    if (params == NULL || input == NULL || output == NULL || params->input_size < 0 ||
        element_size > sizeof(element)) {
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
    te_strided_copy_reach(params, &lowest, &highest);
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
                            memcpy(element, in + (size_t)at * element_size, element_size);
                            memcpy(out, element, element_size);
                            out += element_size;
                            at += stride;
                        }
                    }
                }
            }
        }
    }
    return TE_OK;
}

/* `count` copies of the element_size bytes at value. */
static inline void te_fill_elements(unsigned char *out, int32_t count, const void *value,
                                    size_t element_size)
{
    int32_t k;
    if (element_size == 1) {
        memset(out, *(const unsigned char *)value, (size_t)count);
        return;
    }
    for (k = 0; k < count; k++) {
        memcpy(out + (size_t)k * element_size, value, element_size);
    }
}

/* te_pad_params over elements of element_size bytes; value is the padding
 * element (pad_value already checked and converted by the caller). */
static inline te_status te_pad_elements(const te_pad_params *params, const void *input,
                                        void *output, size_t element_size, const void *value)
{
    const unsigned char *in = (const unsigned char *)input;
    unsigned char *out = (unsigned char *)output;
    int32_t out_shape[TE_MAX_RANK];
    int32_t o[TE_MAX_RANK - 1];
    int32_t rows = 1;
    int32_t row;
    int32_t in_row_stride[TE_MAX_RANK - 1];
    const int last = TE_MAX_RANK - 1;
    int d;

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
            te_fill_elements(out, out_shape[last], value, element_size);
        } else {
            const size_t before = (size_t)params->pad_before[last] * element_size;
            const size_t width = (size_t)params->input_shape[last] * element_size;
            te_fill_elements(out, params->pad_before[last], value, element_size);
            /* memmove: the planner may place the output over the input. */
            memmove(out + before, in + (size_t)in_row * width, width);
            te_fill_elements(out + before + width, params->pad_after[last], value, element_size);
        }
        out += (size_t)out_shape[last] * element_size;
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

#endif /* TINYEDGE_TE_MOVEMENT_H */
