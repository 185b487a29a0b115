/* SVDF: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/svdf_s8.c, which it includes with three parts replaced:
 * - the state shift by one element moves words (unaligned loads) instead of
 *   memmove, which falls back to bytes when source and destination are not
 *   equally aligned;
 * - the feature products take four filters at a time (te_dsp_dot_4_full_rows);
 * - the int16 time product takes two steps per SMLAD: sum w * (s - zp) is
 *   computed as sum w * s - zp * sum w, both by SMLAD (the second against
 *   ones), wrapping modulo 2^32 like the reference's uint32 sum.
 * The rescaling, the int8 state's time product and the outputs are the
 * reference's code. */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "te_dsp.h"

#include <stddef.h>
#include <string.h>

static void shift_state_dsp(void *state, size_t bytes, size_t element_bytes);
static void features_dsp(const te_svdf_params *p, const int8_t *row, const int8_t *weights,
                         int32_t lo, int32_t hi, void *state, int wide);
static uint32_t time_dot_dsp(const te_svdf_params *p, const void *weights_time,
                             const void *state, int wide);
#define TE_SVDF_SHIFT_STATE shift_state_dsp
#define TE_SVDF_FEATURES features_dsp
#define TE_SVDF_TIME_DOT time_dot_dsp
#define TE_MBQM te_dsp_mbqm
#include "../ref/svdf_s8.c"

static void shift_state_dsp(void *state, size_t bytes, size_t element_bytes)
{
    int8_t *dst = state;
    /* (a Cortex-M's state block is far below 2 GB: its size fits int32) */
    te_dsp_copy_forward(dst, dst + element_bytes, (int32_t)(bytes - element_bytes));
}

static void features_dsp(const te_svdf_params *p, const int8_t *row, const int8_t *weights,
                         int32_t lo, int32_t hi, void *state, int wide)
{
    const size_t memory = (size_t)p->memory;
    int32_t f, u;
    for (f = 0; f + 4 <= p->filters; f += 4) {
        int32_t sum[4];
        for (u = 0; u < 4; u++) {
            sum[u] = p->feature_bias[f + u];
        }
        te_dsp_dot_4_full_rows(row, weights + (size_t)f * (size_t)p->input_size,
                               p->input_size, 0, sum);
        for (u = 0; u < 4; u++) {
            store_wrapped(state, (size_t)(f + u + 1) * memory - 1u, wide,
                          feature_value(p, sum[u], lo, hi));
        }
    }
    for (; f < p->filters; f++) {
        store_wrapped(state, (size_t)(f + 1) * memory - 1u, wide,
                      feature_value(p, feature_sum(p, row, weights, f), lo, hi));
    }
}

static uint32_t time_dot_dsp(const te_svdf_params *p, const void *weights_time,
                             const void *state, int wide)
{
    const int16_t *w = weights_time, *s = state;
    const int32_t ones = 0x00010001;
    int32_t ws = 0, w_sum = 0, m = 0, wp, sp;
    if (!wide) {
        return time_dot(p, weights_time, state, wide);
    }
    for (; m + 2 <= p->memory; m += 2) {
        memcpy(&wp, w + m, sizeof wp);
        memcpy(&sp, s + m, sizeof sp);
        ws = __smlad(wp, sp, ws);
        w_sum = __smlad(wp, ones, w_sum);
    }
    for (; m < p->memory; m++) {
        ws = te_dsp_wadd(ws, w[m] * s[m]);
        w_sum += w[m];
    }
    return (uint32_t)ws - (uint32_t)p->state_zero_point * (uint32_t)w_sum;
}
