#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

int32_t te_transpose_conv_s8_scratch_size(const te_dims *output_dims)
{
    int64_t elements;
    if (output_dims == NULL || output_dims->n < 1 || output_dims->h < 1 ||
        output_dims->w < 1 || output_dims->c < 1) {
        return 0;
    }
    elements = (int64_t)output_dims->n * output_dims->h * output_dims->w * output_dims->c;
    if (elements > INT32_MAX / 4) {
        return 0;
    }
    return (int32_t)(elements * 4);
}

te_status te_transpose_conv_s8(int32_t *scratch,
                               const te_conv_params *params, const te_requant *quant,
                               const te_dims *input_dims, const int8_t *input,
                               const te_dims *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const te_dims *output_dims, int8_t *output)
{
    int32_t elements, i, batch, in_y, in_x, ic, ky, kx, oc;

    if (scratch == NULL || params == NULL || quant == NULL || input_dims == NULL ||
        input == NULL || filter_dims == NULL || filter == NULL || output_dims == NULL ||
        output == NULL || quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    if (input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        filter_dims->n < 1 || filter_dims->h < 1 || filter_dims->w < 1 ||
        filter_dims->c != input_dims->c || output_dims->n != input_dims->n ||
        output_dims->c != filter_dims->n ||
        te_transpose_conv_s8_scratch_size(output_dims) == 0) {
        return TE_ARG_ERROR;
    }
    if ((quant->count != 1 && quant->count != output_dims->c) ||
        params->stride_h < 1 || params->stride_w < 1 ||
        params->dilation_h != 1 || params->dilation_w != 1 ||
        params->pad_h < 0 || params->pad_w < 0 ||
        params->input_offset < -127 || params->input_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    elements = output_dims->n * output_dims->h * output_dims->w * output_dims->c;
    for (i = 0; i < elements; i++) {
        scratch[i] = 0;
    }

    /* Scatter: each input value adds its products to the outputs it reaches. */
    for (batch = 0; batch < input_dims->n; batch++) {
        for (in_y = 0; in_y < input_dims->h; in_y++) {
            const int32_t out_y_origin = in_y * params->stride_h - params->pad_h;
            for (in_x = 0; in_x < input_dims->w; in_x++) {
                const int32_t out_x_origin = in_x * params->stride_w - params->pad_w;
                const int8_t *in_px = input + ((batch * input_dims->h + in_y) * input_dims->w
                                               + in_x) * input_dims->c;
                for (ic = 0; ic < input_dims->c; ic++) {
                    const int32_t value = (int32_t)in_px[ic] + params->input_offset;
                    for (ky = 0; ky < filter_dims->h; ky++) {
                        const int32_t out_y = out_y_origin + ky;
                        if (out_y < 0 || out_y >= output_dims->h) {
                            continue;
                        }
                        for (kx = 0; kx < filter_dims->w; kx++) {
                            const int32_t out_x = out_x_origin + kx;
                            int32_t *acc;
                            if (out_x < 0 || out_x >= output_dims->w) {
                                continue;
                            }
                            acc = scratch + ((batch * output_dims->h + out_y) * output_dims->w
                                             + out_x) * output_dims->c;
                            for (oc = 0; oc < output_dims->c; oc++) {
                                const int8_t weight = filter[((oc * filter_dims->h + ky)
                                                              * filter_dims->w + kx)
                                                             * filter_dims->c + ic];
                                /* unsigned: wraps like TFLite's int32 sums, without UB */
                                acc[oc] = te_wrap_s32((uint32_t)acc[oc]
                                                      + (uint32_t)(value * (int32_t)weight));
                            }
                        }
                    }
                }
            }
        }
    }

    /* Gather: bias, requantization, clamp. Scratch element k is read just
     * before output byte k is written. */
    for (i = 0; i < elements; i++) {
        const int32_t oc_index = i % output_dims->c;
        const int32_t q = quant->count == 1 ? 0 : oc_index;
        int32_t acc = scratch[i];
        int32_t result;
        if (bias != NULL) {
            acc = te_add_wrap_s32(acc, bias[oc_index]);
        }
        result = te_mbqm(acc, quant->multipliers[q], quant->shifts[q]);
        result = te_clamp_s32(te_add_wrap_s32(result, params->output_offset),
                              params->activation_min, params->activation_max);
        output[i] = (int8_t)result;
    }
    return TE_OK;
}
