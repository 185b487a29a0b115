#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <stddef.h>
#include <string.h>

/* SVDF as TFLite Micro's EvalIntegerSvdfReference, for int16 and int8 state.
 * The per-filter time products are summed straight into each unit's output,
 * in the order TFLite Micro adds them (bias, then filter 0..rank-1 of the
 * unit), so no scratch is needed. Sums wrap as int32 adds do on hardware. */

/* TFLite's MultiplyByQuantizedMultiplier; a per-target variant of this file
 * may define TE_MBQM as an equal, faster version before including it. */
#ifndef TE_MBQM
#define TE_MBQM te_mbqm
#endif

static int params_ok(const te_svdf_params *p)
{
    return p->batches >= 1 && p->input_size >= 1 && p->input_size <= 65536 &&
           p->rank >= 1 && p->filters >= p->rank && p->filters % p->rank == 0 &&
           p->memory >= 1 && p->feature_bias != NULL &&
           (int64_t)p->filters * p->memory <= INT32_MAX / p->batches &&
           p->output_zero_point >= -128 && p->output_zero_point <= 127 &&
           p->feature_shift >= -31 && p->feature_shift <= 30 &&
           p->output_shift >= -31 && p->output_shift <= 30;
}

/* The newest activation of a filter from its feature product (bias
 * included): rescaled into the state's scale and saturated to [lo, hi], then
 * plus the state zero point. TFLite Micro adds the zero point after the clamp
 * and narrows the sum into the state, so the caller wraps it (store_wrapped). */
static int32_t feature_value(const te_svdf_params *p, int32_t sum, int32_t lo, int32_t hi)
{
    const int32_t acc = TE_MBQM(sum, p->feature_multiplier, p->feature_shift);
    return te_clamp_s32(acc, lo, hi) + p->state_zero_point;
}

/* Filter f's feature product with one input row, plus its bias. */
static int32_t feature_sum(const te_svdf_params *p, const int8_t *row, const int8_t *weights,
                           int32_t f)
{
    const int8_t *w = weights + (size_t)f * (size_t)p->input_size;
    uint32_t sum = (uint32_t)p->feature_bias[f];
    int32_t c;
    for (c = 0; c < p->input_size; c++) {
        sum += (uint32_t)((int32_t)w[c] * (int32_t)row[c]);
    }
    return te_wrap_s32(sum);
}

/* One element of an int16 (wide) or int8 state or time-weight array. */
static int32_t element(const void *base, size_t i, int wide)
{
    return wide ? ((const int16_t *)base)[i] : ((const int8_t *)base)[i];
}

/* Narrows x into an int16 (wide) or int8 element, wrapping as a C cast does. */
static void store_wrapped(void *base, size_t i, int wide, int32_t x)
{
    if (wide) {
        ((int16_t *)base)[i] = (int16_t)((int32_t)(((uint32_t)x + 32768u) & 0xFFFFu) - 32768);
    } else {
        ((int8_t *)base)[i] = (int8_t)((int32_t)(((uint32_t)x + 128u) & 0xFFu) - 128);
    }
}

/* The hooks a per-target variant of this file may define before including it
 * (kernels/src/armv7em/svdf_s8.c): shifting the state one element towards the
 * front, every filter's newest activation into the state, and one filter's
 * time product. */
#ifndef TE_SVDF_SHIFT_STATE
static void shift_state(void *state, size_t bytes, size_t element_bytes)
{
    memmove(state, (uint8_t *)state + element_bytes, bytes - element_bytes);
}
#define TE_SVDF_SHIFT_STATE shift_state
#endif

#ifndef TE_SVDF_FEATURES
/* state[filter f's last element] = its newest activation, for every f */
static void features(const te_svdf_params *p, const int8_t *row, const int8_t *weights,
                     int32_t lo, int32_t hi, void *state, int wide)
{
    int32_t f;
    for (f = 0; f < p->filters; f++) {
        store_wrapped(state, (size_t)(f + 1) * (size_t)p->memory - 1u, wide,
                      feature_value(p, feature_sum(p, row, weights, f), lo, hi));
    }
}
#define TE_SVDF_FEATURES features
#endif

/* sum over m < memory of weights_time[m] * (state[m] - state_zero_point),
 * wrapping, for one filter's rows of both */
static uint32_t time_dot(const te_svdf_params *p, const void *weights_time, const void *state,
                         int wide)
{
    uint32_t dot = 0;
    int32_t m;
    for (m = 0; m < p->memory; m++) {
        dot += (uint32_t)(element(weights_time, (size_t)m, wide) *
                          (element(state, (size_t)m, wide) - p->state_zero_point));
    }
    return dot;
}
#ifndef TE_SVDF_TIME_DOT
#define TE_SVDF_TIME_DOT time_dot
#endif

static int8_t output_value(const te_svdf_params *p, int32_t acc)
{
    acc = TE_MBQM(acc, p->output_multiplier, p->output_shift);
    return (int8_t)te_clamp_s32(te_add_wrap_s32(acc, p->output_zero_point), -128, 127);
}

/* Both state widths: the state and time weights are int16 if wide, else int8. */
static te_status svdf(const te_svdf_params *params, const int8_t *input,
                      const int8_t *weights_feature, const void *weights_time,
                      const int32_t *bias, void *state, int wide, int8_t *output)
{
    const int32_t lo = wide ? -32768 : -128, hi = wide ? 32767 : 127;
    const size_t element_bytes = wide ? 2u : 1u;
    int32_t b, u, units;
    size_t total;

    if (params == NULL || input == NULL || weights_feature == NULL || weights_time == NULL ||
        state == NULL || output == NULL || !params_ok(params) ||
        params->state_zero_point < lo || params->state_zero_point > hi) {
        return TE_ARG_ERROR;
    }
    /* The whole state moves one element towards the front (TFLite Micro
     * shifts across filter boundaries too); each filter's last is new. */
    total = (size_t)params->batches * (size_t)params->filters * (size_t)params->memory;
    TE_SVDF_SHIFT_STATE(state, total * element_bytes, element_bytes);
    units = params->filters / params->rank;
    for (b = 0; b < params->batches; b++) {
        const int8_t *row = input + (size_t)b * (size_t)params->input_size;
        const size_t batch_state = (size_t)b * (size_t)params->filters * (size_t)params->memory;
        uint8_t *batch_state_at = (uint8_t *)state + batch_state * element_bytes;
        TE_SVDF_FEATURES(params, row, weights_feature, lo, hi, batch_state_at, wide);
        for (u = 0; u < units; u++) {
            int32_t acc = bias != NULL ? bias[u] : 0;
            int32_t r;
            for (r = 0; r < params->rank; r++) {
                const size_t filter = (size_t)(u * params->rank + r) * (size_t)params->memory;
                const uint32_t dot = TE_SVDF_TIME_DOT(
                    params, (const uint8_t *)weights_time + filter * element_bytes,
                    batch_state_at + filter * element_bytes, wide);
                acc = te_add_wrap_s32(acc, te_wrap_s32(dot));
            }
            output[(size_t)b * (size_t)units + (size_t)u] = output_value(params, acc);
        }
    }
    return TE_OK;
}

te_status te_svdf_s8_s16(const te_svdf_params *params, const int8_t *input,
                         const int8_t *weights_feature, const int16_t *weights_time,
                         const int32_t *bias, int16_t *state, int8_t *output)
{
    return svdf(params, input, weights_feature, weights_time, bias, state, 1, output);
}

te_status te_svdf_s8_s8(const te_svdf_params *params, const int8_t *input,
                        const int8_t *weights_feature, const int8_t *weights_time,
                        const int32_t *bias, int8_t *state, int8_t *output)
{
    return svdf(params, input, weights_feature, weights_time, bias, state, 0, output);
}
