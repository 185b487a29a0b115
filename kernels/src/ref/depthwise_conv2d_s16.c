#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

te_status te_depthwise_conv2d_s16(const te_conv_params *params, const te_requant *quant,
                                  const te_dims *input_dims, const int16_t *input,
                                  const te_dims *filter_dims, const int8_t *filter,
                                  const int64_t *bias,
                                  const te_dims *output_dims, int16_t *output)
{
    int32_t batch, out_y, out_x, out_c;

    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    if (params->depth_multiplier < 1 ||
        input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        filter_dims->n != 1 || filter_dims->h < 1 || filter_dims->w < 1 ||
        output_dims->h < 1 || output_dims->w < 1 ||
        output_dims->n != input_dims->n || output_dims->c != filter_dims->c ||
        output_dims->c != input_dims->c * params->depth_multiplier) {
        return TE_ARG_ERROR;
    }
    /* The 16x8 scheme has no activation zero points. */
    if ((quant->count != 1 && quant->count != output_dims->c) ||
        !te_mbqm_s64_params_ok(quant->multipliers, quant->shifts, quant->count) ||
        params->stride_h < 1 || params->stride_w < 1 ||
        params->dilation_h < 1 || params->dilation_w < 1 ||
        params->pad_h < 0 || params->pad_w < 0 ||
        params->input_offset != 0 || params->output_offset != 0 ||
        params->activation_min < -32768 || params->activation_max > 32767 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    for (batch = 0; batch < output_dims->n; batch++) {
        for (out_y = 0; out_y < output_dims->h; out_y++) {
            const int32_t in_y_origin = out_y * params->stride_h - params->pad_h;
            for (out_x = 0; out_x < output_dims->w; out_x++) {
                const int32_t in_x_origin = out_x * params->stride_w - params->pad_w;
                for (out_c = 0; out_c < output_dims->c; out_c++) {
                    const int32_t in_c = out_c / params->depth_multiplier;
                    const int32_t q = quant->count == 1 ? 0 : out_c;
                    /* Unsigned: wraps like TFLite's int64 accumulator, without UB. */
                    uint64_t acc = 0;
                    int32_t ky, kx, result;
                    for (ky = 0; ky < filter_dims->h; ky++) {
                        const int32_t in_y = in_y_origin + ky * params->dilation_h;
                        for (kx = 0; kx < filter_dims->w; kx++) {
                            const int32_t in_x = in_x_origin + kx * params->dilation_w;
                            int32_t in_val, f_val;
                            /* Zero padding: points outside the image add nothing. */
                            if (in_y < 0 || in_y >= input_dims->h ||
                                in_x < 0 || in_x >= input_dims->w) {
                                continue;
                            }
                            in_val = input[((batch * input_dims->h + in_y) * input_dims->w
                                            + in_x) * input_dims->c + in_c];
                            f_val = filter[(ky * filter_dims->w + kx) * filter_dims->c + out_c];
                            acc += (uint64_t)(int64_t)(f_val * in_val);
                        }
                    }
                    if (bias != NULL) {
                        acc += (uint64_t)bias[out_c];
                    }
                    result = te_mbqm_s64(te_wrap_s64(acc), quant->multipliers[q], quant->shifts[q]);
                    output[((batch * output_dims->h + out_y) * output_dims->w + out_x)
                           * output_dims->c + out_c] =
                        (int16_t)te_clamp_s32(result, params->activation_min,
                                              params->activation_max);
                }
            }
        }
    }
    return TE_OK;
}
