/* CONV_2D, int8: Helium (MVE) variant for the Cortex-M55 (Armv8.1-M), bit-exact
 * with kernels/src/ref/conv2d_s8.c, which a build without MVE takes instead.
 *
 * Each output pixel's window (kh x kw taps of C_in / groups values) is
 * gathered into a buffer, taps in the padding set to -input_offset so that
 * they add 0 like the taps the reference skips (a window that is one run of
 * the input, as in pointwise layers, is read in place). The input offset is
 * folded out: sum (in + off) * w = sum in * w + off * sum w, the second term
 * and the bias computed once per call. Then four filters at a time take the
 * window 16 bytes at a time (VLDRB, VMLADAVA on int8 lanes, the last chunk
 * predicated, so nothing past a window or filter is read): 64 MACs in ten
 * instructions. Windows of up to 32 values (groups 1: first layers,
 * pointwise layers of few channels) go 16 pixels at a time instead, each
 * filter's weights loaded once for all of them (small_windows). Sums wrap
 * modulo 2^32 like the reference's uint32 ones.
 * Layers of more than TE_MVE_FOLDED filters or windows of more than
 * TE_MVE_WINDOW values (their starts and window would take too much stack)
 * take taps_s16 instead: the offset added to int16 lanes over the valid taps.
 *
 * Four sums are requantized at once in int32 lanes (rq_apply, te_mve.h).
 *
 * Order of reads and writes: pixels in raster order, each pixel's outputs
 * written only while its own reads remain, as in the reference (the memory
 * planner lets an output overlap its input on that order); small_windows
 * copies a block's windows before it writes any of the block's outputs.
 *
 * Filters in pairs (TE_CONV_FILTER_PAIRS) are not read (TE_ARG_ERROR):
 * tinyedge hands this kernel its filters in rows (passes/pack_weights.py).
 */
#if !defined(__ARM_FEATURE_MVE)
#include "../ref/conv2d_s8.c"
#else
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_checks.h"

#include "te_mve.h"

#include <stddef.h>

/* Most filters whose folded starts (bias + off * sum w, 4 bytes each) and
 * longest window that a call keeps on the stack; -D to lower them (layers
 * past them take the int16 loop, taps_s16) */
#ifndef TE_MVE_FOLDED
#define TE_MVE_FOLDED 512
#endif
#ifndef TE_MVE_WINDOW
#define TE_MVE_WINDOW 2048
#endif

/* s[j] += sum of (x[i] + off) * w[j * k + i], i < n, for j < nf <= 4: int16
 * lanes (x + off is in [-255, 255]); lanes past n load 0 weights */
static void dot_s16(const int8_t *x, int32_t off, const int8_t *w, int32_t k, int32_t n,
                    int32_t nf, int32_t s[4])
{
    int32_t i, j;
    for (i = 0; i < n; i += 8) {
        const mve_pred16_t p = vctp16q((uint32_t)(n - i));
        const int16x8_t xv = vaddq_n_s16(vldrbq_z_s16(x + i, p), (int16_t)off);
        for (j = 0; j < nf; j++) {
            s[j] = vmladavaq_s16(s[j], xv, vldrbq_z_s16(w + j * k + i, p));
        }
    }
}

/* dst[i] = src[i] for i < n: a tail-predicated loop (WLSTP/LETP), which GCC
 * does not make of the intrinsics */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    __asm__ volatile(
        "wlstp.8 lr, %[n], 2f\n\t"
        "1:\n\t"
        "vldrb.8 q0, [%[src]], #16\n\t"
        "vstrb.8 q0, [%[dst]], #16\n\t"
        "letp lr, 1b\n\t"
        "2:\n\t"
        : [dst] "+r"(dst), [src] "+r"(src)
        : [n] "r"(n)
        : "q0", "lr", "memory");
}

/* dst[i] = value for i < n (the same loop) */
static inline void fill_bytes(int8_t *dst, int8_t value, int32_t n)
{
    __asm__ volatile(
        "vdup.8 q0, %[v]\n\t"
        "wlstp.8 lr, %[n], 2f\n\t"
        "1:\n\t"
        "vstrb.8 q0, [%[dst]], #16\n\t"
        "letp lr, 1b\n\t"
        "2:\n\t"
        : [dst] "+r"(dst)
        : [n] "r"(n), [v] "r"((int32_t)value)
        : "q0", "lr", "memory");
}

/* The window of group slice [cg] of the pixel whose top-left tap is input
 * pixel (y0, x0) of the image at in_b (already offset to the slice), into win:
 * kh * kw taps of cg bytes, taps in the padding set to pad (-input offset:
 * their in + off is 0, as for the taps the reference skips). [kx0, kx1): the
 * taps of a row inside the image. */
__attribute__((noinline)) static void gather(int8_t *win, const int8_t *in_b, int32_t ih,
                                             int32_t iw, int32_t c, int32_t cg, int32_t kh,
                                             int32_t kw, int32_t y0, int32_t x0, int32_t dh,
                                             int32_t dw, int32_t kx0, int32_t kx1, int8_t pad)
{
    int32_t ky, kx;
    for (ky = 0; ky < kh; ky++, win += kw * cg) {
        const int32_t y = y0 + ky * dh;
        if (y < 0 || y >= ih || kx1 <= kx0) {
            fill_bytes(win, pad, kw * cg);
        } else if (cg == c && dw == 1) {
            /* the row's valid taps are one run, padding either side */
            fill_bytes(win, pad, kx0 * c);
            copy_bytes(win + kx0 * c, in_b + (y * iw + x0 + kx0) * c, (kx1 - kx0) * c);
            fill_bytes(win + kx1 * c, pad, (kw - kx1) * c);
        } else {
            for (kx = 0; kx < kw; kx++) {
                const int32_t x = x0 + kx * dw;
                if (x < 0 || x >= iw) {
                    fill_bytes(win + kx * cg, pad, cg);
                } else {
                    copy_bytes(win + kx * cg, in_b + (y * iw + x) * c, cg);
                }
            }
        }
    }
}

/* The outputs of group g's filters for one pixel (its window's top-left tap
 * at input pixel (y0, x0), its valid taps [ky0, ky1) x [kx0, kx1)), summed
 * over the valid taps with the offset added in int16 lanes: for layers past
 * TE_MVE_FOLDED filters or TE_MVE_WINDOW window bytes */
static void taps_s16(const te_conv_params *params, const te_dims *input_dims,
                     const int8_t *input, const te_dims *filter_dims, const int8_t *filter,
                     const int32_t *bias, const rq_lanes *rq, int32_t batch, int32_t y0,
                     int32_t x0, const int32_t taps[4], int32_t g, int32_t per_group,
                     int8_t *out)
{
    const int32_t ih = input_dims->h, iw = input_dims->w, c = input_dims->c;
    const int32_t kw = filter_dims->w, cg = filter_dims->c, k = filter_dims->h * kw * cg;
    int32_t f;
    for (f = g * per_group; f < (g + 1) * per_group; f += 4) {
        const int32_t nf = te_min_s32(4, (g + 1) * per_group - f);
        int32_t s[4] = {0, 0, 0, 0}, j, ky, kx;
        for (j = 0; j < nf; j++) {
            s[j] = bias != NULL ? bias[f + j] : 0;
        }
        for (ky = taps[0]; ky < taps[1]; ky++) {
            const int8_t *const row =
                input + ((batch * ih + y0 + ky * params->dilation_h) * iw) * c + g * cg;
            for (kx = taps[2]; kx < taps[3]; kx++) {
                dot_s16(row + (x0 + kx * params->dilation_w) * c, params->input_offset,
                        filter + f * k + (ky * kw + kx) * cg, k, cg, nf, s);
            }
        }
        requantize4(s, nf, f, rq, out + f);
    }
}

/* Windows of at most TE_MVE_SMALL values go TE_MVE_BLOCK pixels at a time,
 * each copied to its TE_MVE_SMALL bytes of a block on the stack (so that the
 * block's outputs may be written in any order), the weights of four filters
 * (windows of up to 16 values) or two (up to 32) held in registers over the
 * block */
#define TE_MVE_SMALL 32
#define TE_MVE_BLOCK 16

/* The outputs of n pixels whose windows of k <= TE_MVE_SMALL values lie
 * TE_MVE_SMALL bytes apart at wins, pixel j's at out + j * cout, their sums
 * from start[] */
__attribute__((noinline)) static void small_windows(const int8_t *wins, int32_t n,
                                                    const int8_t *filter, int32_t k,
                                                    int32_t cout, const int32_t *start,
                                                    const rq_lanes *rq, int8_t *out)
{
    int32_t sums[4 * TE_MVE_BLOCK];
    int32_t f, j, h;
    for (f = 0; f + 4 <= cout; f += 4) {
        /* the sums first, then their requantization: together they would
         * take more than the eight vector registers */
        if (k <= 16) {
            const mve_pred16_t p = vctp8q((uint32_t)k);
            const int8x16_t w0 = vldrbq_z_s8(filter + f * k, p);
            const int8x16_t w1 = vldrbq_z_s8(filter + (f + 1) * k, p);
            const int8x16_t w2 = vldrbq_z_s8(filter + (f + 2) * k, p);
            const int8x16_t w3 = vldrbq_z_s8(filter + (f + 3) * k, p);
            const int32_t s0 = start[f], s1 = start[f + 1], s2 = start[f + 2];
            const int32_t s3 = start[f + 3];
            for (j = 0; j < n; j++) {
                const int8x16_t x = vldrbq_s8(wins + TE_MVE_SMALL * j);
                sums[4 * j] = vmladavaq_s8(s0, x, w0);
                sums[4 * j + 1] = vmladavaq_s8(s1, x, w1);
                sums[4 * j + 2] = vmladavaq_s8(s2, x, w2);
                sums[4 * j + 3] = vmladavaq_s8(s3, x, w3);
            }
        } else {
            /* two vectors a window: two filters at a time */
            const mve_pred16_t p = vctp8q((uint32_t)(k - 16));
            for (h = 0; h < 4; h += 2) {
                const int8_t *wa = filter + (f + h) * k, *wb = wa + k;
                const int8x16_t a0 = vldrbq_s8(wa), a1 = vldrbq_z_s8(wa + 16, p);
                const int8x16_t b0 = vldrbq_s8(wb), b1 = vldrbq_z_s8(wb + 16, p);
                const int32_t sa = start[f + h], sb = start[f + h + 1];
                for (j = 0; j < n; j++) {
                    const int8x16_t x0 = vldrbq_s8(wins + TE_MVE_SMALL * j);
                    const int8x16_t x1 = vldrbq_s8(wins + TE_MVE_SMALL * j + 16);
                    sums[4 * j + h] = vmladavaq_s8(vmladavaq_s8(sa, x0, a0), x1, a1);
                    sums[4 * j + h + 1] = vmladavaq_s8(vmladavaq_s8(sb, x0, b0), x1, b1);
                }
            }
        }
        {
            const rq_vectors v = rq_prepare(rq, f, 4);
            for (j = 0; j < n; j++) {
                vstrbq_s32(out + j * cout + f, rq_apply(vldrwq_s32(sums + 4 * j), &v, rq));
            }
        }
    }
    for (j = 0; f < cout && j < n; j++) {
        const int32_t nf = cout - f;
        int32_t s[4] = {0, 0, 0, 0}, i;
        for (i = 0; i < nf; i++) {
            s[i] = start[f + i];
        }
        dot_few_s8(wins + TE_MVE_SMALL * j, filter + f * k, k, nf, s);
        requantize4(s, nf, f, rq, out + j * cout + f);
    }
}

/* Every output pixel, in raster order: its window gathered into `window`
 * (or read in place when it is one run of the input), then each group's
 * filters four at a time (quads_s8) from their folded starts; with
 * folded_start NULL (layers past TE_MVE_FOLDED filters or TE_MVE_WINDOW window
 * bytes), taps_s16. */
static void conv_pixels(const te_conv_params *params, const te_dims *input_dims,
                        const int8_t *input, const te_dims *filter_dims, const int8_t *filter,
                        const int32_t *bias, const te_dims *output_dims, int8_t *output,
                        const rq_lanes *rq, int32_t *folded_start, int8_t *window,
                        int8_t *block)
{
    const int32_t ih = input_dims->h, iw = input_dims->w, c = input_dims->c;
    const int32_t kh = filter_dims->h, kw = filter_dims->w, cg = filter_dims->c;
    const int32_t k = kh * kw * cg, cout = output_dims->c, groups = c / cg;
    const int32_t per_group = cout / groups, off = params->input_offset;
    const int8_t pad = (int8_t)-off;
    int8_t *const last = output + (output_dims->n * output_dims->h * output_dims->w - 1) * cout;
    int32_t batch, oy, ox, f, i, pending = 0;

    for (f = 0; folded_start != NULL && f < cout; f++) {
        int32_t sum = 0;
        for (i = 0; i < k; i += 16) {
            sum = vaddvaq_s8(sum, vldrbq_z_s8(filter + f * k + i, vctp8q((uint32_t)(k - i))));
        }
        folded_start[f] = te_wrap_s32((uint32_t)(bias != NULL ? bias[f] : 0) +
                                      (uint32_t)off * (uint32_t)sum);
    }

    for (batch = 0; batch < output_dims->n; batch++) {
        for (oy = 0; oy < output_dims->h; oy++) {
            const int32_t y0 = oy * params->stride_h - params->pad_h;
            int32_t ky0 = 0, ky1 = kh;
            while (ky0 < kh && y0 + ky0 * params->dilation_h < 0) {
                ky0++;
            }
            while (ky1 > ky0 && y0 + (ky1 - 1) * params->dilation_h >= ih) {
                ky1--;
            }
            for (ox = 0; ox < output_dims->w; ox++) {
                const int32_t x0 = ox * params->stride_w - params->pad_w;
                int8_t *const out =
                    output + ((batch * output_dims->h + oy) * output_dims->w + ox) * cout;
                int32_t kx0 = 0, kx1 = kw, g;
                while (kx0 < kw && x0 + kx0 * params->dilation_w < 0) {
                    kx0++;
                }
                while (kx1 > kx0 && x0 + (kx1 - 1) * params->dilation_w >= iw) {
                    kx1--;
                }
                if (block != NULL) {
                    /* groups 1, k <= TE_MVE_SMALL: the window into the block */
                    int8_t *const slot = block + TE_MVE_SMALL * pending;
                    if (kh == 1 && (kw == 1 || params->dilation_w == 1) && kx0 == 0 &&
                        kx1 == kw && ky1 == 1) {
                        copy_bytes(slot, input + ((batch * ih + y0) * iw + x0) * c, k);
                    } else {
                        gather(slot, input + batch * ih * iw * c, ih, iw, c, cg, kh, kw, y0, x0,
                               params->dilation_h, params->dilation_w, kx0, kx1, pad);
                    }
                    if (++pending == TE_MVE_BLOCK || out == last) {
                        small_windows(block, pending, filter, k, cout, folded_start, rq,
                                      out - (pending - 1) * cout);
                        pending = 0;
                    }
                    continue;
                }
                for (g = 0; g < groups; g++) {
                    const int8_t *x = window;
                    if (folded_start == NULL) {
                        const int32_t taps[4] = {ky0, ky1, kx0, kx1};
                        taps_s16(params, input_dims, input, filter_dims, filter, bias, rq,
                                 batch, y0, x0, taps, g, per_group, out);
                        continue;
                    }
                    if (groups == 1 && kh == 1 && (kw == 1 || params->dilation_w == 1) &&
                        kx0 == 0 && kx1 == kw && ky1 == 1) {
                        /* the window is one run of the input */
                        x = input + ((batch * ih + y0) * iw + x0) * c;
                    } else {
                        gather(window, input + batch * ih * iw * c + g * cg, ih, iw, c, cg, kh,
                               kw, y0, x0, params->dilation_h, params->dilation_w, kx0, kx1,
                               pad);
                    }
                    f = g * per_group;
                    if (per_group >= 4) {
                        quads_s8(x, filter + f * k, k, per_group / 4, folded_start + f, f, rq,
                                 out + f);
                    }
                    if (per_group % 4) {
                        const int32_t nf = per_group % 4;
                        int32_t s[4] = {0, 0, 0, 0}, j;
                        f += per_group - nf;
                        for (j = 0; j < nf; j++) {
                            s[j] = folded_start[f + j];
                        }
                        dot_few_s8(x, filter + f * k, k, nf, s);
                        requantize4(s, nf, f, rq, out + f);
                    }
                }
            }
        }
    }
}

te_status te_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                       const te_dims *input_dims, const int8_t *input,
                       const te_dims *filter_dims, const int8_t *filter,
                       const int32_t *bias,
                       const te_dims *output_dims, int8_t *output)
{
    int32_t k, cout, folded;
    rq_lanes rq;

    if (te_conv2d_s8_args(params, quant, input_dims, input, filter_dims, filter, output_dims,
                          output) != TE_OK ||
        params->filter_layout != TE_CONV_FILTERS) {
        return TE_ARG_ERROR;
    }
    cout = output_dims->c;
    k = filter_dims->h * filter_dims->w * filter_dims->c;
    folded = cout <= TE_MVE_FOLDED && k <= TE_MVE_WINDOW;
    rq = rq_lanes_of(quant, params->output_offset, params->activation_min,
                     params->activation_max);
    {
        /* bias + off * sum w for each filter (wrapping as the reference's
         * uint32 sums), and a pixel's window; for a layer that takes
         * taps_s16, neither */
        const int small = folded && k <= TE_MVE_SMALL && filter_dims->c == input_dims->c;
        int32_t folded_start[folded ? cout : 1];
        int8_t window[folded ? k : 1];
        int8_t block[small ? TE_MVE_SMALL * TE_MVE_BLOCK : 1];
        if (small) {
            /* past each window's k values, read against weights of 0 */
            fill_bytes(block, 0, sizeof block);
        }
        conv_pixels(params, input_dims, input, filter_dims, filter, bias, output_dims, output,
                    &rq, folded ? folded_start : NULL, window, small ? block : NULL);
    }
    return TE_OK;
}
#endif /* __ARM_FEATURE_MVE */
