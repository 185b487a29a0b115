#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

te_status te_fully_connected_s16(const te_fc_params *params, const te_requant *quant,
                                 const te_dims *input_dims, const int16_t *input,
                                 const te_dims *filter_dims, const int8_t *filter,
                                 const int64_t *bias,
                                 const te_dims *output_dims, int16_t *output)
{
    int32_t batches, units, depth, b, u, d;

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
    /* The 16x8 scheme has no activation or filter zero points. */
    if ((quant->count != 1 && quant->count != units) ||
        !te_mbqm_s64_params_ok(quant->multipliers, quant->shifts, quant->count) ||
        params->input_offset != 0 || params->filter_offset != 0 || params->output_offset != 0 ||
        params->filter_layout != TE_FC_ROWS ||
        params->activation_min < -32768 || params->activation_max > 32767 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    for (b = 0; b < batches; b++) {
        const int16_t *in_row = input + b * depth;
        for (u = 0; u < units; u++) {
            const int8_t *f_row = filter + u * depth;
            const int32_t q = quant->count == 1 ? 0 : u;
            /* Unsigned: wraps like TFLite's int64 accumulator, without UB. */
            uint64_t acc = 0;
            int32_t result;
            for (d = 0; d < depth; d++) {
                acc += (uint64_t)(int64_t)((int32_t)f_row[d] * (int32_t)in_row[d]);
            }
            if (bias != NULL) {
                acc += (uint64_t)bias[u];
            }
            result = te_mbqm_s64(te_wrap_s64(acc), quant->multipliers[q], quant->shifts[q]);
            output[b * units + u] = (int16_t)te_clamp_s32(result, params->activation_min,
                                                          params->activation_max);
        }
    }
    return TE_OK;
}
