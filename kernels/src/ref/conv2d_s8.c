#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_checks.h"

#include <stddef.h>

/* Byte `index` (< k) of filter oc, in rows or in pairs (te_types.h) */
static int32_t filter_value(const int8_t *filter, int32_t layout, int32_t k, int32_t oc,
                            int32_t index)
{
    if (layout == TE_CONV_FILTER_PAIRS) {
        return filter[(oc / 2) * 2 * k + (index / 4) * 8 + (oc % 2) * 4 + index % 4];
    }
    return filter[oc * k + index];
}

te_status te_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                       const te_dims *input_dims, const int8_t *input,
                       const te_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias,
                       const te_dims *output_dims, int8_t *output)
{
    int32_t groups, filters_per_group, k;
    int32_t batch, out_y, out_x, out_c;

    if (te_conv2d_s8_args(params, quant, input_dims, input, filter_dims, filter, output_dims,
                          output) != TE_OK) {
        return TE_ARG_ERROR;
    }
    groups = input_dims->c / filter_dims->c;
    filters_per_group = output_dims->c / groups;
    k = filter_dims->h * filter_dims->w * filter_dims->c;
    if (params->filter_layout != TE_CONV_FILTERS &&
        (params->filter_layout != TE_CONV_FILTER_PAIRS || groups != 1 ||
         output_dims->c % 2 != 0 || k % 4 != 0)) {
        return TE_ARG_ERROR;
    }

    for (batch = 0; batch < output_dims->n; batch++) {
        for (out_y = 0; out_y < output_dims->h; out_y++) {
            const int32_t in_y_origin = out_y * params->stride_h - params->pad_h;
            for (out_x = 0; out_x < output_dims->w; out_x++) {
                const int32_t in_x_origin = out_x * params->stride_w - params->pad_w;
                for (out_c = 0; out_c < output_dims->c; out_c++) {
                    const int32_t group = out_c / filters_per_group;
                    const int32_t q = quant->count == 1 ? 0 : out_c;
                    /* Unsigned so that an (unrealistically long) accumulation
                     * wraps as TFLite's int32 one does, without overflow UB. */
                    uint32_t acc = 0;
                    int32_t ky, kx, ic, result;
                    for (ky = 0; ky < filter_dims->h; ky++) {
                        const int32_t in_y = in_y_origin + ky * params->dilation_h;
                        for (kx = 0; kx < filter_dims->w; kx++) {
                            const int32_t in_x = in_x_origin + kx * params->dilation_w;
                            const int8_t *in_px;
                            const int32_t at = (ky * filter_dims->w + kx) * filter_dims->c;
                            /* Zero padding: points outside the image add nothing. */
                            if (in_y < 0 || in_y >= input_dims->h ||
                                in_x < 0 || in_x >= input_dims->w) {
                                continue;
                            }
                            in_px = input + ((batch * input_dims->h + in_y) * input_dims->w
                                             + in_x) * input_dims->c + group * filter_dims->c;
                            for (ic = 0; ic < filter_dims->c; ic++) {
                                acc += (uint32_t)(filter_value(filter, params->filter_layout, k,
                                                               out_c, at + ic)
                                                  * ((int32_t)in_px[ic] + params->input_offset));
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += (uint32_t)bias[out_c];
                    }
                    result = te_mbqm(te_wrap_s32(acc), quant->multipliers[q], quant->shifts[q]);
                    result = te_clamp_s32(te_add_wrap_s32(result, params->output_offset),
                                          params->activation_min, params->activation_max);
                    output[((batch * output_dims->h + out_y) * output_dims->w + out_x)
                           * output_dims->c + out_c] = (int8_t)result;
                }
            }
        }
    }
    return TE_OK;
}
