#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>

/* UNIDIRECTIONAL_SEQUENCE_LSTM as TFLite Micro's integer LSTM (lstm_eval.h,
 * LstmStep with int8 activations and weights, int16 cell state), with the
 * int16 sigmoid and tanh of TFLite's reference_integer_ops. */

/* sigmoid(i / 24) in unsigned Q0.16 for i in [0, 255] (TFLite's
 * sigmoid_table_uint16; tanh(x) = 2 sigmoid(2x) - 1 shares it). */
static const uint16_t sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535
};

/* The scaled input both functions interpolate on: x * multiplier, rounded
 * down by right_shift (TFLite's (x * m + round) >> shift). */
static int32_t scaled_input(int32_t x, int32_t multiplier, int32_t right_shift)
{
    const int32_t round = right_shift > 0 ? (int32_t)1 << (right_shift - 1) : 0;
    return te_asr_s32(x * multiplier + round, right_shift);
}

int16_t te_sigmoid_s16(int32_t x, int32_t multiplier, int32_t right_shift)
{
    const int32_t in = scaled_input(x, multiplier, right_shift);
    const uint32_t magnitude = (uint32_t)(in >= 0 ? in : -in);
    const uint32_t hi = magnitude >> 9;
    uint32_t result;

    if (hi >= 255) {
        result = (uint32_t)0x7FFF << 10;
    } else {
        const uint32_t a = sigmoid_table[hi];
        const uint32_t b = sigmoid_table[hi + 1];
        result = (a << 9) + (magnitude & 0x1FF) * (b - a);
    }
    result = in >= 0 ? result + (1u << 9) : (1u << 25) - result + (1u << 9) - 1u;
    return (int16_t)(result >> 10);
}

int16_t te_tanh_s16(int32_t x, int32_t multiplier, int32_t right_shift)
{
    const int32_t in = scaled_input(x, multiplier, right_shift);
    const uint32_t magnitude = (uint32_t)(in >= 0 ? in : -in);
    const uint32_t hi = magnitude >> 8;
    int32_t result;

    if (hi >= 255) {
        result = (int32_t)((uint32_t)0xFFFF << 8);
    } else {
        const int32_t a = sigmoid_table[hi];
        const int32_t b = sigmoid_table[hi + 1];
        result = (a << 8) + (int32_t)(magnitude & 0xFF) * (b - a);
    }
    result = in >= 0 ? result - (1 << 23) + (1 << 7) : -result + (1 << 23) + (1 << 7) - 1;
    return (int16_t)te_asr_s32(result, 8);
}

static int32_t sat16(int32_t x)
{
    return te_clamp_s32(x, -32768, 32767);
}

/* One row of a gate's matrix product plus its folded bias, rescaled to
 * int16 as TFLite's integer FullyConnected with an int16 output. */
static int32_t row_product(const int8_t *w, const int8_t *x, int32_t n, int32_t bias,
                           int32_t multiplier, int32_t shift)
{
    uint32_t acc = (uint32_t)bias;
    int32_t k;
    for (k = 0; k < n; k++) {
        acc += (uint32_t)((int32_t)w[k] * (int32_t)x[k]);
    }
    return sat16(te_mbqm(te_wrap_s32(acc), multiplier, shift));
}

/* TFLite's MulElementwise of two int16 values (zero offsets). */
static int32_t mul16(int32_t a, int32_t b, int32_t multiplier, int32_t shift)
{
    return te_mbqm(a * b, multiplier, shift);
}

/* Gate g of unit j: activation of the saturated sum of both products. */
static int16_t gate(const te_lstm_params *p, int g, int32_t j, const int8_t *x,
                    const int8_t *h, const int8_t *const weights[8], const int32_t *bias)
{
    const int32_t from_input = row_product(weights[g] + (size_t)j * (size_t)p->input_size, x,
                                           p->input_size, bias[(size_t)g * (size_t)p->units + (size_t)j],
                                           p->input_multiplier[g], p->input_shift[g]);
    const int32_t from_hidden = row_product(weights[4 + g] + (size_t)j * (size_t)p->units, h,
                                            p->units,
                                            bias[(size_t)(4 + g) * (size_t)p->units + (size_t)j],
                                            p->recurrent_multiplier[g], p->recurrent_shift[g]);
    const int32_t sum = sat16(from_input + from_hidden);
    if (g == 2 && !p->cell_gate_sigmoid) {
        return te_tanh_s16(sum, 3, 0); /* Q3.12 input: TFLite's scale power -12 */
    }
    return te_sigmoid_s16(sum, 3, 0);
}

static int params_ok(const te_lstm_params *p)
{
    int g;
    if (p->batches < 1 || p->time_steps < 1 || p->input_size < 1 || p->units < 1 ||
        p->input_size > 65536 || p->units > 65536 ||
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

            for (j = 0; j < params->units; j++) {
                forget_gate[j] = gate(params, 1, j, x, h, weights, bias);
                input_gate[j] = gate(params, 0, j, x, h, weights, bias);
                cell_gate[j] = gate(params, 2, j, x, h, weights, bias);
            }
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
            for (j = 0; j < params->units; j++) {
                output_gate[j] = gate(params, 3, j, x, h, weights, bias);
            }
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
