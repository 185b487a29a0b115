/* The argument checks that every version of a kernel makes (the reference,
 * ARMv7E-M and Helium ones; internal header): TE_OK when the arguments are
 * consistent, else TE_ARG_ERROR.
 */
#ifndef TINYEDGE_TE_CHECKS_H
#define TINYEDGE_TE_CHECKS_H

#include <stddef.h>

#include "tinyedge/te_types.h"

/* te_conv2d_s8: all but the filter layout, which each version checks for
 * the orders it reads */
static inline te_status te_conv2d_s8_args(const te_conv_params *params, const te_requant *quant,
                                          const te_dims *input_dims, const int8_t *input,
                                          const te_dims *filter_dims, const int8_t *filter,
                                          const te_dims *output_dims, const int8_t *output)
{
    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    if (input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        filter_dims->n < 1 || filter_dims->h < 1 || filter_dims->w < 1 || filter_dims->c < 1 ||
        output_dims->h < 1 || output_dims->w < 1 ||
        output_dims->n != input_dims->n || output_dims->c != filter_dims->n) {
        return TE_ARG_ERROR;
    }
    /* Grouped convolution: each group of filters sees C_in / groups channels. */
    if (input_dims->c % filter_dims->c != 0 ||
        output_dims->c % (input_dims->c / filter_dims->c) != 0) {
        return TE_ARG_ERROR;
    }
    if (quant->count != 1 && quant->count != output_dims->c) {
        return TE_ARG_ERROR;
    }
    if (params->stride_h < 1 || params->stride_w < 1 ||
        params->dilation_h < 1 || params->dilation_w < 1 ||
        params->pad_h < 0 || params->pad_w < 0 ||
        params->input_offset < -127 || params->input_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    return TE_OK;
}

/* te_fully_connected_s8 */
static inline te_status te_fully_connected_s8_args(const te_fc_params *params,
                                                   const te_requant *quant,
                                                   const te_dims *input_dims,
                                                   const int8_t *input,
                                                   const te_dims *filter_dims,
                                                   const int8_t *filter,
                                                   const te_dims *output_dims,
                                                   const int8_t *output)
{
    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    if (input_dims->n < 1 || input_dims->c < 1 || filter_dims->n < 1 ||
        input_dims->h != 1 || input_dims->w != 1 ||
        filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != input_dims->c ||
        output_dims->n != input_dims->n || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != filter_dims->n) {
        return TE_ARG_ERROR;
    }
    /* Per-channel weights are symmetric in TFLite, which then ignores the
     * filter offset: a non-zero one with per-channel scales is inconsistent. */
    if ((quant->count != 1 && quant->count != filter_dims->n) ||
        (quant->count != 1 && params->filter_offset != 0)) {
        return TE_ARG_ERROR;
    }
    if (params->input_offset < -127 || params->input_offset > 128 ||
        params->filter_offset < -127 || params->filter_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max ||
        (params->filter_layout != TE_FC_ROWS && params->filter_layout != TE_FC_QUAD_ROWS)) {
        return TE_ARG_ERROR;
    }
    return TE_OK;
}

#endif /* TINYEDGE_TE_CHECKS_H */
