/* AVERAGE_POOL_2D, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/avg_pool2d_s8.c.
 *
 * Four channels at a time: one word load per window tap, and two SXTAB16 add
 * its even and odd bytes to two pairs of halfword sums. Windows of at most
 * TE_POOL_MAX_HALFWORD_TAPS taps keep every halfword sum within +-32640;
 * larger windows and the last C % 4 channels take the per-channel loop.
 *
 * Order: output pixels one after the other, each written after reading only
 * its own window, so the output may overlap the input as far as the memory
 * planner allows (tinyedge/planner/overlap.py, window_limit).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "te_dsp.h"

#include <stddef.h>

#define TE_POOL_MAX_HALFWORD_TAPS 255

/* acc + the sign-extended bytes 1 and 3 of x in its two halfwords */
static inline int32_t sxtab16_ror8(int32_t acc, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* The reference's rounded mean (half away from zero; C division truncates),
 * clamped. */
TE_DSP_INLINE int8_t mean(int32_t sum, int32_t count, const te_pool_params *p)
{
    const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    return (int8_t)te_clamp_s32(avg, p->activation_min, p->activation_max);
}

/* The four channel means of a window of rows x cols taps whose first tap is
 * at window; taps are `channels` bytes apart in a row, rows row_step. */
static void mean_4_channels(const int8_t *window, int32_t rows, int32_t cols,
                            int32_t channels, int32_t row_step, const te_pool_params *p,
                            int8_t *out)
{
    int32_t even = 0, odd = 0, y, x;
    for (y = 0; y < rows; y++) {
        const int8_t *tap = window + y * row_step;
        for (x = 0; x < cols; x++) {
            const int32_t bytes = te_dsp_ld4(tap);
            even = __sxtab16(even, bytes);
            odd = sxtab16_ror8(odd, bytes);
            tap += channels;
        }
    }
    /* SMLABB / SMLATB (x 1 + 0) sign-extend the bottom / top halfword */
    out[0] = mean(__smlabb(even, 1, 0), rows * cols, p);
    out[1] = mean(__smlabb(odd, 1, 0), rows * cols, p);
    out[2] = mean(__smlatb(even, 1, 0), rows * cols, p);
    out[3] = mean(__smlatb(odd, 1, 0), rows * cols, p);
}

static int8_t mean_1_channel(const int8_t *window, int32_t rows, int32_t cols,
                             int32_t channels, int32_t row_step, const te_pool_params *p)
{
    int32_t sum = 0, y, x;
    for (y = 0; y < rows; y++) {
        for (x = 0; x < cols; x++) {
            sum += window[y * row_step + x * channels];
        }
    }
    return mean(sum, rows * cols, p);
}

te_status te_avg_pool2d_s8(const te_pool_params *params,
                           const te_dims *input_dims, const int8_t *input,
                           const te_dims *output_dims, int8_t *output)
{
    int32_t batch, out_y, out_x, c;

    if (params == NULL || input_dims == NULL || input == NULL ||
        output_dims == NULL || output == NULL) {
        return TE_ARG_ERROR;
    }
    if (input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        output_dims->h < 1 || output_dims->w < 1 ||
        output_dims->n != input_dims->n || output_dims->c != input_dims->c) {
        return TE_ARG_ERROR;
    }
    if (params->stride_h < 1 || params->stride_w < 1 ||
        params->filter_h < 1 || params->filter_w < 1 ||
        params->pad_h < 0 || params->pad_w < 0 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }
    /* every window overlaps the input (first and last window of each axis) */
    if (params->filter_h <= params->pad_h || params->filter_w <= params->pad_w ||
        (output_dims->h - 1) * params->stride_h - params->pad_h >= input_dims->h ||
        (output_dims->w - 1) * params->stride_w - params->pad_w >= input_dims->w) {
        return TE_ARG_ERROR;
    }

    for (batch = 0; batch < output_dims->n; batch++) {
        for (out_y = 0; out_y < output_dims->h; out_y++) {
            const int32_t in_y_origin = out_y * params->stride_h - params->pad_h;
            /* the window clipped to the input: padding is not counted */
            const int32_t ky_start = te_max_s32(0, -in_y_origin);
            const int32_t ky_end = te_min_s32(params->filter_h, input_dims->h - in_y_origin);
            for (out_x = 0; out_x < output_dims->w; out_x++) {
                const int32_t in_x_origin = out_x * params->stride_w - params->pad_w;
                const int32_t kx_start = te_max_s32(0, -in_x_origin);
                const int32_t kx_end = te_min_s32(params->filter_w, input_dims->w - in_x_origin);
                const int32_t rows = ky_end - ky_start, cols = kx_end - kx_start;
                const int32_t channels = input_dims->c, row_step = input_dims->w * channels;
                const int8_t *window =
                    input + ((batch * input_dims->h + in_y_origin + ky_start) * input_dims->w
                             + in_x_origin + kx_start) * channels;
                int8_t *out = output + ((batch * output_dims->h + out_y) * output_dims->w
                                        + out_x) * channels;
                c = 0;
                if (rows * cols <= TE_POOL_MAX_HALFWORD_TAPS) {
                    for (; c + 4 <= channels; c += 4) {
                        mean_4_channels(window + c, rows, cols, channels, row_step, params,
                                        out + c);
                    }
                }
                for (; c < channels; c++) {
                    out[c] = mean_1_channel(window + c, rows, cols, channels, row_step, params);
                }
            }
        }
    }
    return TE_OK;
}
