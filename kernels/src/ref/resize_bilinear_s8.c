#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* Checks one axis table: count triples (lower, upper, fraction). */
static int te_bilinear_table_ok(const int32_t *table, int32_t count, int32_t size)
{
    int32_t i;
    for (i = 0; i < count; i++) {
        const int32_t lower = table[3 * i];
        const int32_t upper = table[3 * i + 1];
        const int32_t fraction = table[3 * i + 2];
        if (lower < 0 || lower >= size || upper < 0 || upper >= size ||
            fraction < -1024 || fraction > 1024) {
            return 0;
        }
    }
    return 1;
}

te_status te_resize_bilinear_s8(const te_resize_params *params,
                                const int8_t *input, int8_t *output)
{
    const int32_t *rows;
    const int32_t *cols;
    int32_t b, y, x, c, row_size, image_size;
    int8_t *out = output;

    if (params == NULL || params->rows == NULL || params->cols == NULL || input == NULL ||
        output == NULL) {
        return TE_ARG_ERROR;
    }
    rows = params->rows;
    cols = params->cols;
    if (params->batches < 1 || params->input_h < 1 || params->input_w < 1 ||
        params->channels < 1 || params->output_h < 1 || params->output_w < 1) {
        return TE_ARG_ERROR;
    }
    if (!te_bilinear_table_ok(rows, params->output_h, params->input_h) ||
        !te_bilinear_table_ok(cols, params->output_w, params->input_w)) {
        return TE_ARG_ERROR;
    }
    row_size = params->input_w * params->channels;
    image_size = params->input_h * row_size;

    for (b = 0; b < params->batches; b++) {
        const int8_t *image = input + b * image_size;
        for (y = 0; y < params->output_h; y++) {
            const int8_t *top = image + rows[3 * y] * row_size;
            const int8_t *bottom = image + rows[3 * y + 1] * row_size;
            const int64_t dy = rows[3 * y + 2];
            for (x = 0; x < params->output_w; x++) {
                const int32_t left = cols[3 * x] * params->channels;
                const int32_t right = cols[3 * x + 1] * params->channels;
                const int64_t dx = cols[3 * x + 2];
                for (c = 0; c < params->channels; c++) {
                    /* weights in 1/2^20 units; all four reads precede the write */
                    const int64_t sum =
                        (int64_t)top[left + c] * (1024 - dy) * (1024 - dx) +
                        (int64_t)bottom[left + c] * dy * (1024 - dx) +
                        (int64_t)top[right + c] * (1024 - dy) * dx +
                        (int64_t)bottom[right + c] * dy * dx;
                    const int64_t half = sum > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);
                    /* C99 division truncates toward zero, as TFLite's */
                    const int64_t value = (sum + half) / ((int64_t)1 << 20);
                    *out++ = (int8_t)(value < -128 ? -128 : (value > 127 ? 127 : value));
                }
            }
        }
    }
    return TE_OK;
}
