#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_sigmoid16.h"

#include <stddef.h>

/* UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite Micro's integer LSTM (lstm_eval.h,
 * LstmStep with int8 activations and weights, int16 cell state), with the
 * int16 sigmoid and tanh of TFLite's reference_integer_ops. */

int16_t te_sigmoid_s16(int32_t x, int32_t multiplier, int32_t right_shift)
{
    return te_sigmoid16(x, multiplier, right_shift);
}

int16_t te_tanh_s16(int32_t x, int32_t multiplier, int32_t right_shift)
{
    return te_tanh16(x, multiplier, right_shift);
}

/* TFLite's MultiplyByQuantizedMultiplier; a per-target variant of this file
 * may define TE_MBQM as an equal, faster version before including it. */
#ifndef TE_MBQM
#define TE_MBQM te_mbqm
#endif

static int32_t sat16(int32_t x)
{
    return te_clamp_s32(x, -32768, 32767);
}

/* A gate's matrix product (with its folded bias) rescaled to int16 as
 * TFLite's integer FullyConnected with an int16 output. */
static int32_t rescale16(int32_t acc, int32_t multiplier, int32_t shift)
{
    return sat16(TE_MBQM(acc, multiplier, shift));
}

/* row_product of row j of the matrix m of `rows` rows of n weights, stored
 * in `layout` (te_types.h) */
static int32_t matrix_row_product(const int8_t *m, int32_t layout, int32_t rows, int32_t j,
                                  const int8_t *x, int32_t n, int32_t bias, int32_t multiplier,
                                  int32_t shift)
{
    const uint32_t acc = (uint32_t)bias + te_matrix_row_dot(m, layout, rows, n, j, x, 0, 0);
    return rescale16(te_wrap_s32(acc), multiplier, shift);
}

/* TFLite's MulElementwise of two int16 values (zero offsets). */
static int32_t mul16(int32_t a, int32_t b, int32_t multiplier, int32_t shift)
{
    return TE_MBQM(a * b, multiplier, shift);
}

#ifndef TE_LSTM_GATE_SUMS
/* One row of a gate's matrix product plus its folded bias, rescaled: the rows'
 * loop of gate_sums, without te_dot_run's offsets (zero here) */
static int32_t row_product(const int8_t *w, const int8_t *x, int32_t n, int32_t bias,
                           int32_t multiplier, int32_t shift)
{
    uint32_t acc = (uint32_t)bias;
    int32_t k;
    for (k = 0; k < n; k++) {
        acc += (uint32_t)((int32_t)w[k] * (int32_t)x[k]);
    }
    return rescale16(te_wrap_s32(acc), multiplier, shift);
}

/* gate_sums for matrices in TE_FC_QUAD_ROWS. Its own loop, so that the rows'
 * one keeps its registers on a Cortex-M0+ (which never gets these: tinyedge
 * interleaves the matrices for the DSP kernels, the host runs the folder). */
static TE_NOINLINE void quad_gate_sums(const te_lstm_params *p, int g, const int8_t *x,
                                       const int8_t *h, const int8_t *const weights[8],
                                       const int32_t *bias, int16_t *sums)
{
    const int32_t units = p->units;
    int32_t j;
    for (j = 0; j < units; j++) {
        sums[j] = (int16_t)sat16(
            matrix_row_product(weights[g], TE_FC_QUAD_ROWS, units, j, x, p->input_size,
                               bias[(size_t)g * (size_t)units + (size_t)j],
                               p->input_multiplier[g], p->input_shift[g]) +
            matrix_row_product(weights[4 + g], TE_FC_QUAD_ROWS, units, j, h, units,
                               bias[(size_t)(4 + g) * (size_t)units + (size_t)j],
                               p->recurrent_multiplier[g], p->recurrent_shift[g]));
    }
}

/* sums[j] = the saturated sum of both products of gate g for every unit j,
 * before the activation. A per-target variant of this file defines
 * TE_LSTM_GATE_SUMS as its own version and includes this file
 * (kernels/src/armv7em/lstm_s8_s16.c). */
static void gate_sums(const te_lstm_params *p, int g, const int8_t *x, const int8_t *h,
                      const int8_t *const weights[8], const int32_t *bias, int16_t *sums)
{
    int32_t j;
    if (p->weight_layout == TE_FC_QUAD_ROWS) {
        quad_gate_sums(p, g, x, h, weights, bias, sums);
        return;
    }
    for (j = 0; j < p->units; j++) {
        const int32_t from_input =
            row_product(weights[g] + (size_t)j * (size_t)p->input_size, x, p->input_size,
                        bias[(size_t)g * (size_t)p->units + (size_t)j],
                        p->input_multiplier[g], p->input_shift[g]);
        const int32_t from_hidden =
            row_product(weights[4 + g] + (size_t)j * (size_t)p->units, h, p->units,
                        bias[(size_t)(4 + g) * (size_t)p->units + (size_t)j],
                        p->recurrent_multiplier[g], p->recurrent_shift[g]);
        sums[j] = (int16_t)sat16(from_input + from_hidden);
    }
}
#define TE_LSTM_GATE_SUMS gate_sums
#endif

/* Gate g of every unit: its activation in out[j]. */
static void gate(const te_lstm_params *p, int g, const int8_t *x, const int8_t *h,
                 const int8_t *const weights[8], const int32_t *bias, int16_t *out)
{
    int32_t j;
    TE_LSTM_GATE_SUMS(p, g, x, h, weights, bias, out);
    for (j = 0; j < p->units; j++) {
        /* Q3.12 input: TFLite's scale power -12 */
        out[j] = g == 2 && !p->cell_gate_sigmoid ? te_tanh_s16(out[j], 3, 0)
                                                 : te_sigmoid_s16(out[j], 3, 0);
    }
}

static int params_ok(const te_lstm_params *p)
{
    int g;
    if (p->batches < 1 || p->time_steps < 1 || p->input_size < 1 || p->units < 1 ||
        p->input_size > 65536 || p->units > 65536 ||
        /* a matrix's weight index stays an int32_t (te_weight_index) */
        (int64_t)p->units * (p->input_size > p->units ? p->input_size : p->units) > INT32_MAX ||
        (p->weight_layout != TE_FC_ROWS && p->weight_layout != TE_FC_QUAD_ROWS) ||
        (int64_t)p->batches * p->time_steps * p->input_size > INT32_MAX ||
        (int64_t)p->batches * p->time_steps * p->units > INT32_MAX ||
        p->hidden_zero_point < -128 || p->hidden_zero_point > 127 ||
        p->cell_clip < 0 || p->cell_clip > 32767 ||
        p->cell_tanh_multiplier < 1 || p->cell_tanh_multiplier > (3 << 12) ||
        p->cell_tanh_shift < 0 || p->cell_tanh_shift > 15) {
        return 0;
    }
    for (g = 0; g < 4; g++) {
        if (p->input_shift[g] < -31 || p->input_shift[g] > 30 ||
            p->recurrent_shift[g] < -31 || p->recurrent_shift[g] > 30) {
            return 0;
        }
    }
    return p->forget_cell_shift >= -31 && p->forget_cell_shift <= 30 &&
           p->input_cell_shift >= -31 && p->input_cell_shift <= 30 &&
           p->hidden_shift >= -31 && p->hidden_shift <= 30;
}

te_status te_lstm_s8_s16(const te_lstm_params *params, int16_t *scratch,
                         const int8_t *input, const int8_t *const weights[8],
                         int8_t *hidden_state, int16_t *cell_state, int8_t *output)
{
    const int32_t *bias;
    int32_t b, t, j;
    int g;

    if (params == NULL || scratch == NULL || input == NULL || weights == NULL ||
        params->bias == NULL || hidden_state == NULL || cell_state == NULL || output == NULL ||
        !params_ok(params)) {
        return TE_ARG_ERROR;
    }
    bias = params->bias;
    for (g = 0; g < 8; g++) {
        if (weights[g] == NULL) {
            return TE_ARG_ERROR;
        }
    }
    for (b = 0; b < params->batches; b++) {
        int8_t *h = hidden_state + (size_t)b * (size_t)params->units;
        int16_t *cell = cell_state + (size_t)b * (size_t)params->units;
        int16_t *input_gate = scratch;
        int16_t *forget_gate = scratch + params->units;
        int16_t *cell_gate = scratch + 2 * (size_t)params->units;
        int16_t *output_gate = scratch; /* reused once the cell is updated */

        for (t = 0; t < params->time_steps; t++) {
            const int32_t row = params->time_major ? t * params->batches + b
                                                   : b * params->time_steps + t;
            const int8_t *x = input + (size_t)row * (size_t)params->input_size;
            int8_t *out = output + (size_t)row * (size_t)params->units;

            gate(params, 1, x, h, weights, bias, forget_gate);
            gate(params, 0, x, h, weights, bias, input_gate);
            gate(params, 2, x, h, weights, bias, cell_gate);
            for (j = 0; j < params->units; j++) {
                const int32_t kept = sat16(mul16(forget_gate[j], cell[j],
                                                 params->forget_cell_multiplier,
                                                 params->forget_cell_shift));
                const int32_t added = sat16(mul16(input_gate[j], cell_gate[j],
                                                  params->input_cell_multiplier,
                                                  params->input_cell_shift));
                int32_t updated = sat16(kept + added);
                if (params->cell_clip > 0) {
                    updated = te_clamp_s32(updated, -params->cell_clip, params->cell_clip);
                }
                cell[j] = (int16_t)updated;
            }
            gate(params, 3, x, h, weights, bias, output_gate);
            for (j = 0; j < params->units; j++) {
                const int32_t activated = te_tanh_s16(cell[j], params->cell_tanh_multiplier,
                                                      params->cell_tanh_shift);
                const int32_t hidden = te_add_wrap_s32(
                    mul16(activated, output_gate[j], params->hidden_multiplier,
                          params->hidden_shift), params->hidden_zero_point);
                h[j] = (int8_t)te_clamp_s32(hidden, -128, 127);
                out[j] = h[j];
            }
        }
    }
    return TE_OK;
}
