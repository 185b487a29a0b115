/* FULLY_CONNECTED, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/fully_connected_s8.c.
 *
 * Four units at a time share each input word: it is widened once (SXTB16,
 * SXTB16 ROR #8), the input offset added (SADD16), and multiplied with a word
 * of each unit's weights by two SMLAD. In the TE_FC_QUAD_ROWS layout (the one
 * tinyedge emits for these kernels) the four words lie side by side: one LDM
 * reads them, and the weights stream through the flash accelerator's data
 * cache in order, each line fetched once (four rows a multiple of 128 bytes
 * apart share its lines, and would each miss on every word). The filter
 * offset, when there is one,
 * is folded out: sum (w + f_off) * (in + off) = sum w * (in + off)
 * + f_off * sum (in + off). Every step wraps modulo 2^32 like the reference's
 * uint32 accumulator, so the order of the additions does not matter.
 *
 * Order of reads and writes: batch rows one after the other; a row's outputs
 * are written while only that row's input remains to be read, as the memory
 * planner assumes (tinyedge/planner/overlap.py, rows_limit).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_checks.h"
#include "te_dsp.h"

#include <stddef.h>

/* out[k] for the n sums acc[k] of units that share the prepared
 * requantization rq (te_dsp_rq_apply, whose |result| <= 2^30 cannot wrap the
 * offset's add), clamped to the activation range: one SSAT where that is all
 * of int8 */
static void unit_outputs(int8_t *out, const int32_t *acc, int32_t n, const te_dsp_rq *rq_in,
                         const te_fc_params *params)
{
    /* copies in registers: the int8_t stores could alias them */
    const te_dsp_rq rq = *rq_in;
    const int32_t off = params->output_offset;
    const int32_t lo = params->activation_min, hi = params->activation_max;
    int32_t k;
    if (lo == -128 && hi == 127) {
        for (k = 0; k < n; k++) {
            out[k] = te_dsp_out_s8(te_dsp_rq_apply(acc[k], &rq), off, -128, 127, 1);
        }
        return;
    }
    for (k = 0; k < n; k++) {
        out[k] = te_dsp_out_s8(te_dsp_rq_apply(acc[k], &rq), off, lo, hi, 0);
    }
}

te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const te_dims *output_dims, int8_t *output)
{
    static const int32_t no_bias[4] = {0, 0, 0, 0};
    int32_t batches, units, depth, b, u, k, d;
    te_dsp_rq rq = {0, 0, 0, 0}; /* set where tensor_rq is 1 */
    int tensor_rq;

    if (te_fully_connected_s8_args(params, quant, input_dims, input, filter_dims, filter,
                                   output_dims, output) != TE_OK) {
        return TE_ARG_ERROR;
    }
    batches = input_dims->n;
    depth = input_dims->c;
    units = filter_dims->n;

    /* per tensor (the usual case): te_mbqm prepared once (unit_outputs); per
     * channel, or for a pair te_dsp_rq_init declines, te_dsp_mbqm */
    tensor_rq = quant->count == 1 && te_dsp_rq_init(&rq, quant->multipliers[0], quant->shifts[0]);
    for (b = 0; b < batches; b++) {
        const int8_t *in_row = input + b * depth;
        int8_t *out_row = output + b * units;
        const int32_t off = params->input_offset;
        const int32_t step = quant->count != 1;
        /* f_off * sum (in + off): the filter offset's share of every unit */
        int32_t filter_offset_term = 0;
        if (params->filter_offset != 0) {
            int32_t input_sum = 0;
            for (d = 0; d < depth; d++) {
                input_sum = te_dsp_wadd(input_sum, in_row[d] + off);
            }
            filter_offset_term = te_dsp_wmul(params->filter_offset, input_sum);
        }
        for (u = 0; u < units;) {
            const int32_t n = units - u >= 4 &&
                              (TE_ROW_BLOCKS || params->filter_layout == TE_FC_QUAD_ROWS)
                              ? 4 : 1;
            const int32_t *b4 = bias != NULL ? bias + u : no_bias;
            int32_t acc[4];
            /* unrolled: a loop here kept its pointers on the stack (-O2) or
             * became a memset call (-Os) */
            acc[0] = te_dsp_wadd(b4[0], filter_offset_term);
            if (n == 4) {
                acc[1] = te_dsp_wadd(b4[1], filter_offset_term);
                acc[2] = te_dsp_wadd(b4[2], filter_offset_term);
                acc[3] = te_dsp_wadd(b4[3], filter_offset_term);
                if (params->filter_layout == TE_FC_QUAD_ROWS) {
                    te_dsp_dot_quad_rows(in_row, filter + u * depth, depth, off, acc);
                }
#if TE_ROW_BLOCKS
                else {
                    te_dsp_dot_4_full_rows(in_row, filter + u * depth, depth, off, acc);
                }
#endif
            } else {
                acc[0] = te_dsp_dot_row(in_row, filter + u * depth, depth, off, acc[0]);
            }
            if (tensor_rq) {
                unit_outputs(out_row + u, acc, n, &rq, params);
                u += n;
                continue;
            }
            for (k = 0; k < n; k++, u++) {
                const int32_t r = te_dsp_mbqm(acc[k], quant->multipliers[step * u],
                                              quant->shifts[step * u]);
                out_row[u] = (int8_t)te_clamp_s32(te_add_wrap_s32(r, params->output_offset),
                                                  params->activation_min, params->activation_max);
            }
        }
    }
    return TE_OK;
}
