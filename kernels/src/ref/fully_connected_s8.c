#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_checks.h"

#include <stddef.h>

te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const te_dims *output_dims, int8_t *output)
{
    int32_t batches, units, depth, b, u;

    if (te_fully_connected_s8_args(params, quant, input_dims, input, filter_dims, filter,
                                   output_dims, output) != TE_OK) {
        return TE_ARG_ERROR;
    }
    batches = input_dims->n;
    depth = input_dims->c;
    units = filter_dims->n;

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
