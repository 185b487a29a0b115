#include "tinyedge/te_kernels.h"

#include <stddef.h>

static int te_resize_dims_ok(const te_resize_params *params)
{
    return params->batches >= 1 && params->input_h >= 1 && params->input_w >= 1 &&
           params->channels >= 1 && params->output_h >= 1 && params->output_w >= 1;
}

te_status te_resize_nearest_s8(const te_resize_params *params,
                               const int8_t *input, int8_t *output)
{
    const int32_t *rows;
    const int32_t *cols;
    int32_t b, y, x, c;
    int8_t *out = output;

    if (params == NULL || params->rows == NULL || params->cols == NULL || input == NULL ||
        output == NULL) {
        return TE_ARG_ERROR;
    }
    rows = params->rows;
    cols = params->cols;
    if (!te_resize_dims_ok(params)) {
        return TE_ARG_ERROR;
    }
    for (y = 0; y < params->output_h; y++) {
        if (rows[y] < 0 || rows[y] >= params->input_h) {
            return TE_ARG_ERROR;
        }
    }
    for (x = 0; x < params->output_w; x++) {
        if (cols[x] < 0 || cols[x] >= params->input_w) {
            return TE_ARG_ERROR;
        }
    }

    for (b = 0; b < params->batches; b++) {
        const int8_t *image = input + b * params->input_h * params->input_w * params->channels;
        for (y = 0; y < params->output_h; y++) {
            const int8_t *row = image + rows[y] * params->input_w * params->channels;
            for (x = 0; x < params->output_w; x++) {
                const int8_t *pixel = row + cols[x] * params->channels;
                /* element by element, not memcpy: the output may overlap the input */
                for (c = 0; c < params->channels; c++) {
                    *out++ = pixel[c];
                }
            }
        }
    }
    return TE_OK;
}
