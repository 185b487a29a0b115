/* UNIDIRECTIONAL_SEQUENCE_LSTM: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact
 * with kernels/src/ref/lstm_s8_s16.c, which it includes: only the gates' matrix
 * products differ. They take four units at a time (te_dsp_dot_4_rows: each
 * word of x or h widened once by SXTB16 for four rows, two SMLAD per row;
 * matrices in TE_FC_QUAD_ROWS, as tinyedge emits them, by one LDM a word),
 * the sums wrapping modulo 2^32 like the reference's uint32 accumulator. The
 * activations, the cell and the hidden state are the reference's code. */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "te_dsp.h"

#include <stddef.h>

static void gate_sums_dsp(const te_lstm_params *p, int g, const int8_t *x, const int8_t *h,
                          const int8_t *const weights[8], const int32_t *bias, int16_t *sums);
#define TE_LSTM_GATE_SUMS gate_sums_dsp
#define TE_MBQM te_dsp_mbqm
#include "../ref/lstm_s8_s16.c"

static void gate_sums_dsp(const te_lstm_params *p, int g, const int8_t *x, const int8_t *h,
                          const int8_t *const weights[8], const int32_t *bias, int16_t *sums)
{
    const int32_t units = p->units, n_in = p->input_size;
    const int32_t *bias_in = bias + (size_t)g * (size_t)units;
    const int32_t *bias_h = bias + (size_t)(4 + g) * (size_t)units;
    int32_t j, u;
    const int quad = p->weight_layout == TE_FC_QUAD_ROWS;
    for (j = 0; j + 4 <= units && (TE_ROW_BLOCKS || quad); j += 4) {
        const int8_t *const w_in = weights[g] + (size_t)j * (size_t)n_in;
        const int8_t *const w_h = weights[4 + g] + (size_t)j * (size_t)units;
        int32_t from_input[4], from_hidden[4];
        for (u = 0; u < 4; u++) {
            from_input[u] = bias_in[j + u];
            from_hidden[u] = bias_h[j + u];
        }
        if (quad) {
            te_dsp_dot_quad_rows(x, w_in, n_in, 0, from_input);
            te_dsp_dot_quad_rows(h, w_h, units, 0, from_hidden);
        }
#if TE_ROW_BLOCKS
        else {
            te_dsp_dot_4_full_rows(x, w_in, n_in, 0, from_input);
            te_dsp_dot_4_full_rows(h, w_h, units, 0, from_hidden);
        }
#endif
        for (u = 0; u < 4; u++) {
            sums[j + u] = (int16_t)sat16(
                rescale16(from_input[u], p->input_multiplier[g], p->input_shift[g]) +
                rescale16(from_hidden[u], p->recurrent_multiplier[g], p->recurrent_shift[g]));
        }
    }
    for (; j < units; j++) {
        sums[j] = (int16_t)sat16(
            matrix_row_product(weights[g], p->weight_layout, units, j, x, n_in, bias_in[j],
                               p->input_multiplier[g], p->input_shift[g]) +
            matrix_row_product(weights[4 + g], p->weight_layout, units, j, h, units,
                               bias_h[j], p->recurrent_multiplier[g], p->recurrent_shift[g]));
    }
}
