/* FULLY_CONNECTED, int8: Helium (MVE) variant for the Cortex-M55 (Armv8.1-M),
 * bit-exact with kernels/src/ref/fully_connected_s8.c, which a build without
 * MVE takes instead.
 *
 * What tinyedge emits for this kernel (weights in rows, TE_FC_ROWS, and the
 * input offset folded into the bias, passes/fold_input_offset.py; TFLite's
 * int8 weights have no offset) takes quads_s8 (te_mve.h): each input row
 * against four units at a time, 16 bytes per VMLADAVA, and four outputs
 * requantized at once in int32 lanes. With an input or filter offset the
 * offsets are added to int16 lanes (VLDRB.S16, VMLADAVA.S16: 8 MACs at a
 * time); the interleaved layout (TE_FC_QUAD_ROWS, which tinyedge emits only
 * for the ARMv7E-M kernel) takes the reference's row dot product. Sums wrap
 * modulo 2^32 like the reference's uint32 ones.
 *
 * Order of reads and writes: batch rows one after the other; a row's outputs
 * are written while only that row's input remains to be read, as the memory
 * planner assumes (tinyedge/planner/overlap.py, rows_limit).
 */
#if !defined(__ARM_FEATURE_MVE)
#include "../ref/fully_connected_s8.c"
#else
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_checks.h"
#include "te_mve.h"

#include <stddef.h>

/* bias + sum of (w + w_off) * (x + x_off) over a row of depth weights:
 * int16 lanes (both sums of a value and its offset are in [-255, 255]) */
static int32_t dot_offsets_s16(const int8_t *w, const int8_t *x, int32_t depth, int32_t w_off,
                               int32_t x_off, int32_t acc)
{
    const int16x8_t zero = vdupq_n_s16(0);
    int32_t n;
    for (n = depth; n > 0; n -= 8, w += 8, x += 8) {
        /* lanes past the row stay 0 */
        const mve_pred16_t p = vctp16q((uint32_t)n);
        const int16x8_t wv = vaddq_m_n_s16(zero, vldrbq_z_s16(w, p), (int16_t)w_off, p);
        const int16x8_t xv = vaddq_m_n_s16(zero, vldrbq_z_s16(x, p), (int16_t)x_off, p);
        acc = vmladavaq_s16(acc, wv, xv);
    }
    return acc;
}

te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const te_dims *output_dims, int8_t *output)
{
    int32_t batches, units, depth, b, u;
    rq_lanes rq;

    if (te_fully_connected_s8_args(params, quant, input_dims, input, filter_dims, filter,
                                   output_dims, output) != TE_OK) {
        return TE_ARG_ERROR;
    }
    batches = input_dims->n;
    depth = input_dims->c;
    units = filter_dims->n;
    rq = rq_lanes_of(quant, params->output_offset, params->activation_min,
                     params->activation_max);

    for (b = 0; b < batches; b++) {
        const int8_t *in_row = input + b * depth;
        int8_t *out_row = output + b * units;
        if (params->filter_layout == TE_FC_ROWS && params->input_offset == 0 &&
            params->filter_offset == 0) {
            const int32_t whole = units & ~3;
            if (whole > 0) {
                quads_s8(in_row, filter, depth, whole / 4, bias, 0, &rq, out_row);
            }
            if (whole < units) {
                int32_t s[4] = {0, 0, 0, 0};
                for (u = whole; u < units; u++) {
                    s[u - whole] = bias != NULL ? bias[u] : 0;
                }
                dot_few_s8(in_row, filter + whole * depth, depth, units - whole, s);
                requantize4(s, units - whole, whole, &rq, out_row + whole);
            }
            continue;
        }
        for (u = 0; u < units; u += 4) {
            const int32_t nf = te_min_s32(4, units - u);
            int32_t s[4] = {0, 0, 0, 0}, j;
            for (j = 0; j < nf; j++) {
                const int32_t start = bias != NULL ? bias[u + j] : 0;
                s[j] = params->filter_layout == TE_FC_ROWS
                       ? dot_offsets_s16(filter + (u + j) * depth, in_row, depth,
                                         params->filter_offset, params->input_offset, start)
                       : te_wrap_s32((uint32_t)start + te_matrix_row_dot(
                             filter, params->filter_layout, units, depth, u + j, in_row,
                             params->filter_offset, params->input_offset));
            }
            requantize4(s, nf, u, &rq, out_row + u);
        }
    }
    return TE_OK;
}
#endif /* __ARM_FEATURE_MVE */
