/* CONV_2D, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/conv2d_s8.c.
 *
 * The input offset is folded out of the inner loops as TFLite does:
 *   sum (in + off) * w = sum in * w + off * sum w,
 * every step in wrapping 32-bit arithmetic (SMLAD wraps; the reference
 * accumulates in uint32), so the result is the same modulo 2^32.
 * Inner loops read 4 int8 of input and of weights per word, widen them with
 * SXTB16 (bytes 0,2) and SXTB16 ROR #8 (bytes 1,3) and multiply-accumulate
 * pairs with SMLAD; blocks of 2 output channels x 2 pixels share every
 * widened word.
 * - 1x1, stride 1, unpadded, ungrouped: the input is a [pixels, C_in] matrix,
 *   pixels taken two at a time across rows.
 * - otherwise: for each kernel row the valid taps (dilation_w 1) are one
 *   contiguous run of (taps x C_in) bytes in both input and filter. Pixels
 *   whose window is inside the image use the folded offset; border pixels add
 *   the offset to the widened input (SADD16) over their valid taps only.
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"

#include <arm_acle.h>
#include <stddef.h>
#include <string.h>

#if !defined(__ARM_FEATURE_DSP)
#error "kernels/src/armv7em needs the ARMv7E-M DSP extension (-mcpu=cortex-m4 or cortex-m7)"
#endif

static inline int32_t ld4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v); /* an unaligned LDR */
    return v;
}

/* bytes 1 and 3 sign-extended to two halfwords (GCC does not fold the rotate) */
static inline int32_t sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t wadd(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t wmul(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a * (uint32_t)b);
}

/* s[p][o] += sum in_p[i] * w_o[i], i < n, for 2 pixels x 2 filters.
 * The 4-byte steps are one asm loop: 4 loads, 8 SXTB16, 8 SMLAD and the loop
 * test per 16 MACs (GCC spills the 14 live registers of the C version). */
/* Not inlined: the callers keep stack arrays (a frame pointer), and the loop
 * needs 14 registers. */
__attribute__((noinline)) static void dot_2x2(const int8_t *in0, const int8_t *in1,
                           const int8_t *w0, const int8_t *w1, int32_t n, int32_t *s)
{
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    const int32_t quads = n >> 2;
    int32_t i = quads << 2;
    if (quads > 0) {
        const int8_t *const end0 = in0 + i;
        const int32_t d_in = (int32_t)(in1 - in0), d_w = (int32_t)(w1 - w0);
        const int8_t *p = in0, *q = w0;
        int32_t t0, t1, t2, t3, t4, t5;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[t1], [%[p], %[din]]\n\t"
            "ldr %[t0], [%[p]], #4\n\t"
            "ldr %[t5], [%[q]], #4\n\t"
            "sxtb16 %[t2], %[t1], ror #8\n\t"
            "sxtb16 %[t1], %[t1]\n\t"
            "sxtb16 %[t3], %[t0], ror #8\n\t"
            "sxtb16 %[t0], %[t0]\n\t"
            "sxtb16 %[t4], %[t5], ror #8\n\t"
            "sxtb16 %[t5], %[t5]\n\t"
            "smlad %[s00], %[t0], %[t5], %[s00]\n\t"
            "smlad %[s00], %[t3], %[t4], %[s00]\n\t"
            "smlad %[s10], %[t1], %[t5], %[s10]\n\t"
            "smlad %[s10], %[t2], %[t4], %[s10]\n\t"
            "ldr %[t5], [%[q], %[dw]]\n\t"
            "sxtb16 %[t4], %[t5], ror #8\n\t"
            "sxtb16 %[t5], %[t5]\n\t"
            "smlad %[s01], %[t0], %[t5], %[s01]\n\t"
            "smlad %[s01], %[t3], %[t4], %[s01]\n\t"
            "smlad %[s11], %[t1], %[t5], %[s11]\n\t"
            "smlad %[s11], %[t2], %[t4], %[s11]\n\t"
            "ldr %[t0], %[end]\n\t"
            "cmp %[p], %[t0]\n\t"
            "bne 1b\n\t"
            : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11),
              [p] "+r"(p), [q] "+r"(q),
              [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3),
              [t4] "=&r"(t4), [t5] "=&r"(t5)
            : [din] "r"(d_in), [dw] "r"(d_w - 4), [end] "m"(end0)
            : "cc", "memory");
    }
    for (; i < n; i++) {
        const int32_t a0 = in0[i], a1 = in1[i], b0 = w0[i], b1 = w1[i];
        s00 = wadd(s00, a0 * b0);
        s01 = wadd(s01, a0 * b1);
        s10 = wadd(s10, a1 * b0);
        s11 = wadd(s11, a1 * b1);
    }
    s[0] = s00; s[1] = s01; s[2] = s10; s[3] = s11;
}

/* s[o] += sum (in[i] + off) * w_o[i], i < n, for 1 pixel x 2 filters
 * (off in [-127, 128], so in + off fits a halfword). */
static inline void dot_1x2_off(const int8_t *in, const int8_t *w0, const int8_t *w1,
                               int32_t n, int32_t off, int32_t *s)
{
    const int32_t off2 = (int32_t)(((uint32_t)off & 0xffffu) * 0x10001u);
    int32_t s0 = s[0], s1 = s[1];
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t a = ld4(in + i);
        const int32_t ae = __sadd16(__sxtb16(a), off2), ao = __sadd16(sxtb16_ror8(a), off2);
        int32_t b = ld4(w0 + i);
        s0 = __smlad(ae, __sxtb16(b), s0);
        s0 = __smlad(ao, sxtb16_ror8(b), s0);
        b = ld4(w1 + i);
        s1 = __smlad(ae, __sxtb16(b), s1);
        s1 = __smlad(ao, sxtb16_ror8(b), s1);
    }
    for (; i < n; i++) {
        const int32_t a = in[i] + off;
        s0 = wadd(s0, a * w0[i]);
        s1 = wadd(s1, a * w1[i]);
    }
    s[0] = s0; s[1] = s1;
}

/* sum w[i], i < n */
static inline int32_t weight_sum(const int8_t *w, int32_t n)
{
    const int32_t ones = 0x00010001;
    int32_t s = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t b = ld4(w + i);
        s = __smlad(__sxtb16(b), ones, s);
        s = __smlad(sxtb16_ror8(b), ones, s);
    }
    for (; i < n; i++) {
        s += w[i];
    }
    return s;
}

static inline int8_t requant(int32_t acc, const te_requant *quant, int32_t oc,
                             const te_conv_params *params)
{
    const int32_t q = quant->count == 1 ? 0 : oc;
    const int32_t r = te_mbqm(acc, quant->multipliers[q], quant->shifts[q]);
    return (int8_t)te_clamp_s32(te_add_wrap_s32(r, params->output_offset),
                                params->activation_min, params->activation_max);
}

static int32_t acc_init(const int32_t *bias, int32_t oc)
{
    return bias != NULL ? bias[oc] : 0;
}

/* Order of reads and writes: pixels are visited in raster order, and every
 * channel of a pixel is written only after the reads of that pixel and of the
 * pixels before it; the memory planner lets an output overlap its input on that
 * promise (tinyedge/planner/overlap.py). In a block of two pixels the second
 * pixel's channels are staged on the stack and copied out once the block's
 * reads are done. The filter sums of the folded input offset (plus bias) are
 * computed once per call into init[C_out] on the stack; above TE_DSP_MAX_COUT
 * output channels the stack arrays are not used and every pixel takes the
 * one-pixel path, which adds the offset to the input instead. */
#define TE_DSP_MAX_COUT 256

static void filter_sums(const int8_t *filter, int32_t cout, int32_t fsize,
                        const int32_t *bias, int32_t off, int32_t *init)
{
    int32_t oc;
    for (oc = 0; oc < cout; oc++) {
        init[oc] = wadd(acc_init(bias, oc), wmul(off, weight_sum(filter + oc * fsize, fsize)));
    }
}

/* 1x1, stride 1, unpadded, ungrouped, output the size of the input;
 * cout <= TE_DSP_MAX_COUT. */
static void conv_1x1(const te_conv_params *params, const te_requant *quant,
                     const te_dims *input_dims, const int8_t *input,
                     const int8_t *filter, const int32_t *bias,
                     const te_dims *output_dims, int8_t *output)
{
    const int32_t cin = input_dims->c, cout = output_dims->c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    int32_t init[cout];
    int8_t stage[cout];
    int32_t oc, p;
    filter_sums(filter, cout, cin, bias, params->input_offset, init);
    for (p = 0; p < pixels; p += 2) {
        const int32_t p1 = p + 1 < pixels ? p + 1 : p; /* odd count: repeat the last */
        const int8_t *in0 = input + p * cin, *in1 = input + p1 * cin;
        int8_t *out0 = output + p * cout;
        for (oc = 0; oc < cout; oc += 2) {
            const int32_t oc1 = oc + 1 < cout ? oc + 1 : oc;
            int32_t s[4];
            s[0] = init[oc]; s[1] = init[oc1]; s[2] = init[oc]; s[3] = init[oc1];
            dot_2x2(in0, in1, filter + oc * cin, filter + oc1 * cin, cin, s);
            out0[oc] = requant(s[0], quant, oc, params);
            out0[oc1] = requant(s[1], quant, oc1, params);
            stage[oc] = requant(s[2], quant, oc, params);
            stage[oc1] = requant(s[3], quant, oc1, params);
        }
        memcpy(output + p1 * cout, stage, (size_t)cout);
    }
}

/* Every other valid case. pairs == 0: one pixel at a time, no stack arrays. */
static void conv_general(const te_conv_params *params, const te_requant *quant,
                         const te_dims *input_dims, const int8_t *input,
                         const te_dims *filter_dims, const int8_t *filter,
                         const int32_t *bias, const te_dims *output_dims, int8_t *output,
                         int32_t filters_per_group, int pairs)
{
    const int32_t ih = input_dims->h, iw = input_dims->w, ic_all = input_dims->c;
    const int32_t kh = filter_dims->h, kw = filter_dims->w, fc = filter_dims->c;
    const int32_t oh = output_dims->h, ow = output_dims->w, cout = output_dims->c;
    const int32_t sh = params->stride_h, sw = params->stride_w;
    const int32_t dh = params->dilation_h, dw = params->dilation_w;
    const int32_t off = params->input_offset;
    const int32_t fsize = kh * kw * fc;
    const int32_t span_h = (kh - 1) * dh, span_w = (kw - 1) * dw;
    const int32_t nstack = pairs ? cout : 1;
    int32_t init[nstack];
    int8_t stage[nstack];
    int32_t oc, batch, oy, ox;

    if (pairs) {
        filter_sums(filter, cout, fsize, bias, off, init);
    }
    for (batch = 0; batch < output_dims->n; batch++) {
        const int8_t *in_b = input + batch * ih * iw * ic_all;
        for (oy = 0; oy < oh; oy++) {
            const int32_t y0 = oy * sh - params->pad_h;
            const int32_t ky0 = y0 >= 0 ? 0 : (-y0 + dh - 1) / dh;
            const int32_t ky1 = te_min_s32(kh, (ih - 1 - y0) >= 0 ? (ih - 1 - y0) / dh + 1 : 0);
            const int y_inside = y0 >= 0 && y0 + span_h < ih;
            int8_t *out_row = output + ((batch * oh + oy) * ow) * cout;
            for (ox = 0; ox < ow; ox++) {
                const int32_t x0 = ox * sw - params->pad_w;
                const int32_t x1 = x0 + sw;
                int32_t ky, kx;
                if (pairs && y_inside && x0 >= 0 && ox + 1 < ow && x1 + span_w < iw) {
                    /* two neighbouring pixels, whole windows inside the image */
                    for (oc = 0; oc < cout; oc += 2) {
                        const int32_t group = oc / filters_per_group;
                        const int32_t oc1 =
                            (oc + 1 < cout && (oc + 1) / filters_per_group == group) ? oc + 1 : oc;
                        const int8_t *w0 = filter + oc * fsize, *w1 = filter + oc1 * fsize;
                        const int8_t *base = in_b + (y0 * iw + x0) * ic_all + group * fc;
                        int32_t s[4];
                        s[0] = init[oc]; s[1] = init[oc1]; s[2] = init[oc]; s[3] = init[oc1];
                        for (ky = 0; ky < kh; ky++) {
                            const int8_t *r0 = base + ky * dh * iw * ic_all;
                            const int8_t *r1 = r0 + sw * ic_all;
                            const int32_t wo = ky * kw * fc;
                            if (dw == 1 && fc == ic_all) {
                                dot_2x2(r0, r1, w0 + wo, w1 + wo, kw * fc, s);
                            } else {
                                for (kx = 0; kx < kw; kx++) {
                                    dot_2x2(r0 + kx * dw * ic_all, r1 + kx * dw * ic_all,
                                            w0 + wo + kx * fc, w1 + wo + kx * fc, fc, s);
                                }
                            }
                        }
                        out_row[ox * cout + oc] = requant(s[0], quant, oc, params);
                        out_row[ox * cout + oc1] = requant(s[1], quant, oc1, params);
                        stage[oc] = requant(s[2], quant, oc, params);
                        stage[oc1] = requant(s[3], quant, oc1, params);
                        oc = oc1 - 1; /* the loop adds 2: continue after oc1 */
                    }
                    memcpy(out_row + (ox + 1) * cout, stage, (size_t)cout);
                    ox++;
                } else {
                    /* one pixel; valid taps only, offset added to the input */
                    const int32_t kx0 = x0 >= 0 ? 0 : (-x0 + dw - 1) / dw;
                    const int32_t kx1 =
                        te_min_s32(kw, (iw - 1 - x0) >= 0 ? (iw - 1 - x0) / dw + 1 : 0);
                    for (oc = 0; oc < cout; oc += 2) {
                        const int32_t group = oc / filters_per_group;
                        const int32_t oc1 =
                            (oc + 1 < cout && (oc + 1) / filters_per_group == group) ? oc + 1 : oc;
                        const int8_t *w0 = filter + oc * fsize, *w1 = filter + oc1 * fsize;
                        int32_t s[2];
                        s[0] = acc_init(bias, oc);
                        s[1] = acc_init(bias, oc1);
                        for (ky = ky0; ky < ky1 && kx0 < kx1; ky++) {
                            const int8_t *r = in_b + (y0 + ky * dh) * iw * ic_all + group * fc;
                            const int32_t wo = ky * kw * fc;
                            if (dw == 1 && fc == ic_all) {
                                dot_1x2_off(r + (x0 + kx0) * ic_all, w0 + wo + kx0 * fc,
                                            w1 + wo + kx0 * fc, (kx1 - kx0) * fc, off, s);
                            } else {
                                for (kx = kx0; kx < kx1; kx++) {
                                    dot_1x2_off(r + (x0 + kx * dw) * ic_all, w0 + wo + kx * fc,
                                                w1 + wo + kx * fc, fc, off, s);
                                }
                            }
                        }
                        out_row[ox * cout + oc] = requant(s[0], quant, oc, params);
                        out_row[ox * cout + oc1] = requant(s[1], quant, oc1, params);
                        oc = oc1 - 1;
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
    int32_t groups, filters_per_group;

    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    if (input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        filter_dims->n < 1 || filter_dims->h < 1 || filter_dims->w < 1 || filter_dims->c < 1 ||
        output_dims->h < 1 || output_dims->w < 1 ||
        output_dims->n != input_dims->n || output_dims->c != filter_dims->n) {
        return TE_ARG_ERROR;
    }
    if (input_dims->c % filter_dims->c != 0) {
        return TE_ARG_ERROR;
    }
    groups = input_dims->c / filter_dims->c;
    if (output_dims->c % groups != 0) {
        return TE_ARG_ERROR;
    }
    filters_per_group = output_dims->c / groups;
    if (quant->count != 1 && quant->count != output_dims->c) {
        return TE_ARG_ERROR;
    }
    if (params->stride_h < 1 || params->stride_w < 1 ||
        params->dilation_h < 1 || params->dilation_w < 1 ||
        params->pad_h < 0 || params->pad_w < 0 ||
        params->input_offset < -127 || params->input_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    if (groups == 1 && filter_dims->h == 1 && filter_dims->w == 1 &&
        params->stride_h == 1 && params->stride_w == 1 &&
        params->pad_h == 0 && params->pad_w == 0 &&
        output_dims->h == input_dims->h && output_dims->w == input_dims->w &&
        output_dims->c <= TE_DSP_MAX_COUT) {
        conv_1x1(params, quant, input_dims, input, filter, bias, output_dims, output);
    } else {
        conv_general(params, quant, input_dims, input, filter_dims, filter, bias,
                     output_dims, output, filters_per_group, output_dims->c <= TE_DSP_MAX_COUT);
    }
    return TE_OK;
}
