#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

te_status te_avg_pool2d_s8(const te_pool_params *params,
                           const te_dims *input_dims, const int8_t *input,
                           const te_dims *output_dims, int8_t *output)
{
    int32_t batch, out_y, out_x, c;

    if (params == NULL || input_dims == NULL || input == NULL ||
        output_dims == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    if (input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        output_dims->h < 1 || output_dims->w < 1 ||
        output_dims->n != input_dims->n || output_dims->c != input_dims->c) {
        return TE_ARG_ERROR;
    }
    if (params->stride_h < 1 || params->stride_w < 1 ||
        params->filter_h < 1 || params->filter_w < 1 ||
        params->pad_h < 0 || params->pad_w < 0 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    /* Every window must overlap the input (TFLite fails on an empty one).
     * Window origins grow with the output index, so checking the first and
     * the last window of each axis is enough. */
    if (params->filter_h <= params->pad_h || params->filter_w <= params->pad_w ||
        (output_dims->h - 1) * params->stride_h - params->pad_h >= input_dims->h ||
        (output_dims->w - 1) * params->stride_w - params->pad_w >= input_dims->w) {
        return TE_ARG_ERROR;
    }

    for (batch = 0; batch < output_dims->n; batch++) {
        for (out_y = 0; out_y < output_dims->h; out_y++) {
            const int32_t in_y_origin = out_y * params->stride_h - params->pad_h;
            /* The window clipped to the input: padding is not counted. */
            const int32_t ky_start = te_max_s32(0, -in_y_origin);
            const int32_t ky_end = te_min_s32(params->filter_h, input_dims->h - in_y_origin);
            for (out_x = 0; out_x < output_dims->w; out_x++) {
                const int32_t in_x_origin = out_x * params->stride_w - params->pad_w;
                const int32_t kx_start = te_max_s32(0, -in_x_origin);
                const int32_t kx_end = te_min_s32(params->filter_w, input_dims->w - in_x_origin);
                const int32_t count = (ky_end - ky_start) * (kx_end - kx_start);
                for (c = 0; c < input_dims->c; c++) {
                    int32_t sum = 0;
                    int32_t ky, kx, avg;
                    for (ky = ky_start; ky < ky_end; ky++) {
                        for (kx = kx_start; kx < kx_end; kx++) {
                            sum += input[((batch * input_dims->h + in_y_origin + ky)
                                          * input_dims->w + in_x_origin + kx)
                                         * input_dims->c + c];
                        }
                    }
                    /* Round half away from zero (C division truncates). */
                    avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    avg = te_clamp_s32(avg, params->activation_min, params->activation_max);
                    output[((batch * output_dims->h + out_y) * output_dims->w + out_x)
                           * output_dims->c + c] = (int8_t)avg;
                }
            }
        }
    }
    return TE_OK;
}
