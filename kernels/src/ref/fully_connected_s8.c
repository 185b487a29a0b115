#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const te_dims *output_dims, int8_t *output)
{
    int32_t batches, units, depth, b, u;

    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    batches = input_dims->n;
    depth = input_dims->c;
    units = filter_dims->n;
    if (batches < 1 || depth < 1 || units < 1 ||
        input_dims->h != 1 || input_dims->w != 1 ||
        filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != depth ||
        output_dims->n != batches || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != units) {
        return TE_ARG_ERROR;
    }
    /* Per-channel weights are symmetric in TFLite, which then ignores the
     * filter offset: a non-zero one with per-channel scales is inconsistent. */
    if ((quant->count != 1 && quant->count != units) ||
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

    for (b = 0; b < batches; b++) {
        const int8_t *in_row = input + b * depth;
        for (u = 0; u < units; u++) {
            const int32_t q = quant->count == 1 ? 0 : u;
            /* Unsigned: wraps like TFLite's int32 accumulator, without UB. */
            uint32_t acc = te_matrix_row_dot(filter, params->filter_layout, units, depth, u,
                                             in_row, params->filter_offset,
                                             params->input_offset);
            int32_t result;
            if (bias != NULL) {
                acc += (uint32_t)bias[u];
            }
            result = te_mbqm(te_wrap_s32(acc), quant->multipliers[q], quant->shifts[q]);
            result = te_clamp_s32(te_add_wrap_s32(result, params->output_offset),
                                  params->activation_min, params->activation_max);
            output[b * units + u] = (int8_t)result;
        }
    }
    return TE_OK;
}
