/* DEPTHWISE_CONV_2D, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/depthwise_conv2d_s8.c.
 *
 * Depth multiplier 1 (the usual case): channels go four at a time. One word
 * of input and one of weights hold the same 4 channels of a tap; SXTB16 and
 * SXTB16 ROR #8 widen them to channels (0, 2) and (1, 3), and SMLABB/SMLATT
 * accumulate each channel in its own register. Every pixel visits only its
 * valid taps (no per-tap bounds checks).
 * - A pixel whose window is inside the image has the input offset folded out
 *   of its loop: sum (in + off) * w = sum in * w + off * sum w, the second
 *   term computed once per channel, in wrapping 32-bit arithmetic like the
 *   reference's uint32 accumulator.
 * - A border pixel adds the offset to the widened input with SADD16.
 * Other depth multipliers, dilation_w > 1, and the channels left over after
 * the quads take a per-channel loop. Requantization is te_dsp_rq_apply with the
 * per-channel form prepared once per call, or te_dsp_mbqm when that form does
 * not apply (both te_mbqm's result). Consecutive pixels whose 3x3 windows
 * lie inside the image run as one batch (window_run_3x3), each window
 * unrolled, its sums started from the folded per-channel values.
 *
 * Order of reads and writes: one pixel at a time in raster order, a pixel's
 * channels written while only its own reads remain, as the reference does
 * and as the memory planner assumes when it lets the output overlap the input
 * (tinyedge/planner/overlap.py).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "te_dsp.h"

#include <stddef.h>

/* Above this many channels the folded sums are not kept on the stack and
 * every pixel adds the offset to its input. */
#define TE_DSP_DW_MAX_CH 512

typedef struct {
    const te_conv_params *params;
    const te_requant *quant;
    const te_dsp_rq *rq; /* every channel's prepared requantization, when `prepared` */
    int prepared;
    int full_range;
    const int8_t *filter;
    const int32_t *bias;
    int32_t in_h, in_w, channels, k_h, k_w, out_c;
} dw_layer;

/* The taps [ky0, ky1) x [kx0, kx1) of a window whose corner is input pixel
 * (y0, x0) that fall inside the image (both empty, or both not). */
typedef struct {
    int32_t y0, x0, ky0, ky1, kx0, kx1;
} dw_window;

static inline int32_t bias_of(const dw_layer *l, int32_t oc)
{
    return l->bias != NULL ? l->bias[oc] : 0;
}

/* First tap index of a window starting at origin whose input coordinate is
 * >= 0, and one past the last whose coordinate is < size. */
static void tap_range(int32_t origin, int32_t dilation, int32_t size, int32_t taps,
                      int32_t *first, int32_t *end)
{
    *first = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
    *end = origin > size - 1 ? 0 : te_min_s32(taps, (size - 1 - origin) / dilation + 1);
}

/* acc + sum over the window's valid taps of (in + off) * w for output channel
 * oc (input channel ic); in_b is the batch's image. */
static int32_t channel_dot(const dw_layer *l, const int8_t *in_b, const dw_window *win,
                           int32_t ic, int32_t oc, int32_t off, int32_t acc)
{
    const int32_t dh = l->params->dilation_h, dw = l->params->dilation_w;
    const int32_t in_step = dw * l->channels;
    int32_t ky, kx;
    for (ky = win->ky0; ky < win->ky1; ky++) {
        const int8_t *in = in_b + ((win->y0 + ky * dh) * l->in_w + win->x0 + win->kx0 * dw)
                           * l->channels + ic;
        const int8_t *w = l->filter + (ky * l->k_w + win->kx0) * l->out_c + oc;
        for (kx = win->kx0; kx < win->kx1; kx++) {
            acc = te_dsp_wadd(acc, (*in + off) * *w);
            in += in_step;
            w += l->out_c;
        }
    }
    return acc;
}

/* Where a pixel's valid taps are (dilation_w 1, depth multiplier 1): tap
 * (r, t) of channel c reads in + r * in_row + t * ch + c and
 * w + r * w_row + t * ch + c. */
typedef struct {
    const int8_t *in, *w;
    int32_t rows, cols, in_row, w_row, ch;
} dw_taps;

/* The inner loops are asm (C at -O0, TE_DSP_ASM): GCC spills the four
 * accumulators of the C version. They take a window of rows x cols >= 1 x 1
 * taps for 4 channels (taps->in and taps->w already point at the first tap of
 * the first channel) and leave start[0..3] plus the sums in a[0..3]. */

#if TE_DSP_ASM
/* Any window with dilation_w 1 (the input and weight steps between the taps
 * of a row are both ch); off2 (the input offset in both halfwords, 0 when
 * folded) is added to the widened input. */
static inline void quad_window(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                               int32_t off2, const int32_t *start, int32_t *a)
{
    const int32_t in_skip = taps->in_row - taps->cols * taps->ch;
    const int32_t w_skip = taps->w_row - taps->cols * taps->ch;
    const int32_t row_bytes = taps->cols * taps->ch;
    const int8_t *const f_end = f_p + taps->rows * taps->w_row;
    const int8_t *row_end;
    int32_t a0 = start[0], a1 = start[1], a2 = start[2], a3 = start[3];
    int32_t x, f, xe, fe;
    __asm__ volatile(
        "2:\n\t"
        "ldr %[xe], %[rowbytes]\n\t"
        "add %[xe], %[fp], %[xe]\n\t"
        "str %[xe], %[rowend]\n\t"
        "1:\n\t"
        "ldr %[x], [%[xp]]\n\t"
        "ldr %[f], [%[fp]]\n\t"
        "add %[xp], %[xp], %[ch]\n\t"
        "add %[fp], %[fp], %[ch]\n\t"
        "sxtb16 %[xe], %[x]\n\t"
        "sxtb16 %[x], %[x], ror #8\n\t"
        "sadd16 %[xe], %[xe], %[off2]\n\t"
        "sadd16 %[x], %[x], %[off2]\n\t"
        "sxtb16 %[fe], %[f]\n\t"
        "sxtb16 %[f], %[f], ror #8\n\t"
        "smlabb %[a0], %[xe], %[fe], %[a0]\n\t"
        "smlatt %[a2], %[xe], %[fe], %[a2]\n\t"
        "smlabb %[a1], %[x], %[f], %[a1]\n\t"
        "smlatt %[a3], %[x], %[f], %[a3]\n\t"
        "ldr %[xe], %[rowend]\n\t"
        "cmp %[fp], %[xe]\n\t"
        "bne 1b\n\t"
        "ldr %[xe], %[inskip]\n\t"
        "add %[xp], %[xp], %[xe]\n\t"
        "ldr %[xe], %[wskip]\n\t"
        "add %[fp], %[fp], %[xe]\n\t"
        "ldr %[xe], %[end]\n\t"
        "cmp %[fp], %[xe]\n\t"
        "bne 2b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
          [xp] "+r"(x_p), [fp] "+r"(f_p), [rowend] "=m"(row_end),
          [x] "=&r"(x), [f] "=&r"(f), [xe] "=&r"(xe), [fe] "=&r"(fe)
        : [ch] "r"(taps->ch), [off2] "r"(off2),
          [rowbytes] "m"(row_bytes), [inskip] "m"(in_skip), [wskip] "m"(w_skip),
          [end] "m"(f_end)
        : "cc", "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

/* One tap of 4 channels: input at XADDR, weights at FADDR, both widened,
 * OFFSET (nothing, or TE_DW_ADD_OFFSET) applied to the widened input, and each
 * channel's product added to its sum. */
#define TE_DW_TAP(XADDR, FADDR, OFFSET)                  \
    "ldr %[x], " XADDR "\n\t"                           \
    "ldr %[f], " FADDR "\n\t"                           \
    "sxtb16 %[xe], %[x]\n\t"                            \
    "sxtb16 %[x], %[x], ror #8\n\t"                     \
    OFFSET                                               \
    "sxtb16 %[fe], %[f]\n\t"                            \
    "sxtb16 %[f], %[f], ror #8\n\t"                     \
    "smlabb %[a0], %[xe], %[fe], %[a0]\n\t"             \
    "smlatt %[a2], %[xe], %[fe], %[a2]\n\t"             \
    "smlabb %[a1], %[x], %[f], %[a1]\n\t"               \
    "smlatt %[a3], %[x], %[f], %[a3]\n\t"
#define TE_DW_ADD_OFFSET                                 \
    "sadd16 %[xe], %[xe], %[off2]\n\t"                  \
    "sadd16 %[x], %[x], %[off2]\n\t"

/* One tap of the 3-wide rows below, offset folded: input at xp + k * ch,
 * weights at fp + k * ch (k = 0, 1, 2 through the address's shift). */
#define TE_DW_TAP3(XADDR, FADDR) TE_DW_TAP(XADDR, FADDR, "")

/* Rows of exactly 3 taps (3x3 kernels), dilation_w 1, offset folded:
 * unrolled, the taps addressed from the row start. */
static inline void quad_window3(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                                const int32_t *start, int32_t *a)
{
    const int8_t *const f_end = f_p + taps->rows * taps->w_row;
    int32_t a0 = start[0], a1 = start[1], a2 = start[2], a3 = start[3];
    int32_t x, f, xe, fe;
    __asm__ volatile(
        "1:\n\t"
        TE_DW_TAP3("[%[xp]]", "[%[fp]]")
        TE_DW_TAP3("[%[xp], %[ch]]", "[%[fp], %[ch]]")
        TE_DW_TAP3("[%[xp], %[ch], lsl #1]", "[%[fp], %[ch], lsl #1]")
        "ldr %[xe], %[inrow]\n\t"
        "add %[xp], %[xp], %[xe]\n\t"
        "ldr %[xe], %[wrow]\n\t"
        "add %[fp], %[fp], %[xe]\n\t"
        "ldr %[xe], %[end]\n\t"
        "cmp %[fp], %[xe]\n\t"
        "bne 1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
          [xp] "+r"(x_p), [fp] "+r"(f_p),
          [x] "=&r"(x), [f] "=&r"(f), [xe] "=&r"(xe), [fe] "=&r"(fe)
        : [ch] "r"(taps->ch),
          [inrow] "m"(taps->in_row), [wrow] "m"(taps->w_row), [end] "m"(f_end)
        : "cc", "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

/* One tap of a border pixel's rows below: the input offset (off2, in both
 * halfwords) added to the widened input. */
#define TE_DW_TAP_OFF(XADDR, FADDR) TE_DW_TAP(XADDR, FADDR, TE_DW_ADD_OFFSET)

/* The row loop of a window whose rows have a fixed number of taps (TAPS, the
 * unrolled taps of one row), dilation_w 1, the offset added: the windows of
 * border pixels, cut to 2 or 3 taps a row. */
#define TE_DW_ROWS_OFF(TAPS)                                                     \
    const int8_t *const f_end = f_p + taps->rows * taps->w_row;                  \
    int32_t a0 = start[0], a1 = start[1], a2 = start[2], a3 = start[3];           \
    int32_t x, f, xe, fe;                                                        \
    __asm__ volatile(                                                            \
        "1:\n\t"                                                                 \
        TAPS                                                                     \
        "ldr %[xe], %[inrow]\n\t"                                                \
        "add %[xp], %[xp], %[xe]\n\t"                                            \
        "ldr %[xe], %[wrow]\n\t"                                                 \
        "add %[fp], %[fp], %[xe]\n\t"                                            \
        "ldr %[xe], %[end]\n\t"                                                  \
        "cmp %[fp], %[xe]\n\t"                                                   \
        "bne 1b\n\t"                                                             \
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),           \
          [xp] "+r"(x_p), [fp] "+r"(f_p),                                        \
          [x] "=&r"(x), [f] "=&r"(f), [xe] "=&r"(xe), [fe] "=&r"(fe)            \
        : [ch] "r"(taps->ch), [off2] "r"(off2),                                 \
          [inrow] "m"(taps->in_row), [wrow] "m"(taps->w_row), [end] "m"(f_end)  \
        : "cc", "memory");                                                       \
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;

static inline void quad_window2_off(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                                    int32_t off2, const int32_t *start, int32_t *a)
{
    TE_DW_ROWS_OFF(TE_DW_TAP_OFF("[%[xp]]", "[%[fp]]")
                   TE_DW_TAP_OFF("[%[xp], %[ch]]", "[%[fp], %[ch]]"))
}

static inline void quad_window3_off(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                                    int32_t off2, const int32_t *start, int32_t *a)
{
    TE_DW_ROWS_OFF(TE_DW_TAP_OFF("[%[xp]]", "[%[fp]]")
                   TE_DW_TAP_OFF("[%[xp], %[ch]]", "[%[fp], %[ch]]")
                   TE_DW_TAP_OFF("[%[xp], %[ch], lsl #1]", "[%[fp], %[ch], lsl #1]"))
}

#undef TE_DW_ROWS_OFF
#undef TE_DW_TAP_OFF

/* A 3x3 window (the folded case of 3x3 kernels): quad_window3 without its row
 * loop, the input row step in a register and the weights' (3 * ch) added; the
 * sums start from start[0..3] and go to a[0..3]. Scalar arguments: the
 * caller's copies stay in registers across the asm's memory clobber. */
__attribute__((always_inline)) static inline void quad_window3x3(const int8_t *x_p,
                                                                  const int8_t *f_p, int32_t ch,
                                                                  int32_t in_row,
                                                                  const int32_t *start,
                                                                  int32_t *a)
{
    int32_t a0 = start[0], a1 = start[1], a2 = start[2], a3 = start[3];
    int32_t x, f, xe, fe;
    __asm__ volatile(
        TE_DW_TAP3("[%[xp]]", "[%[fp]]")
        TE_DW_TAP3("[%[xp], %[ch]]", "[%[fp], %[ch]]")
        TE_DW_TAP3("[%[xp], %[ch], lsl #1]", "[%[fp], %[ch], lsl #1]")
        "add %[xp], %[xp], %[inrow]\n\t"
        "add %[fp], %[fp], %[ch], lsl #1\n\t"
        "add %[fp], %[fp], %[ch]\n\t"
        TE_DW_TAP3("[%[xp]]", "[%[fp]]")
        TE_DW_TAP3("[%[xp], %[ch]]", "[%[fp], %[ch]]")
        TE_DW_TAP3("[%[xp], %[ch], lsl #1]", "[%[fp], %[ch], lsl #1]")
        "add %[xp], %[xp], %[inrow]\n\t"
        "add %[fp], %[fp], %[ch], lsl #1\n\t"
        "add %[fp], %[fp], %[ch]\n\t"
        TE_DW_TAP3("[%[xp]]", "[%[fp]]")
        TE_DW_TAP3("[%[xp], %[ch]]", "[%[fp], %[ch]]")
        TE_DW_TAP3("[%[xp], %[ch], lsl #1]", "[%[fp], %[ch], lsl #1]")
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
          [xp] "+r"(x_p), [fp] "+r"(f_p),
          [x] "=&r"(x), [f] "=&r"(f), [xe] "=&r"(xe), [fe] "=&r"(fe)
        : [ch] "r"(ch), [inrow] "r"(in_row)
        : "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

#undef TE_DW_TAP3
#undef TE_DW_ADD_OFFSET
#undef TE_DW_TAP

#else

static void quad_window(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                        int32_t off2, const int32_t *start, int32_t *a)
{
    int32_t r, t;
    memcpy(a, start, 4 * sizeof *a);
    for (r = 0; r < taps->rows; r++) {
        const int8_t *x_r = x_p + r * taps->in_row, *f_r = f_p + r * taps->w_row;
        for (t = 0; t < taps->cols; t++) {
            const int32_t x = te_dsp_ld4(x_r + t * taps->ch), f = te_dsp_ld4(f_r + t * taps->ch);
            const int32_t xe = __sadd16(__sxtb16(x), off2);
            const int32_t xo = __sadd16(te_dsp_sxtb16_ror8(x), off2);
            const int32_t fe = __sxtb16(f), fo = te_dsp_sxtb16_ror8(f);
            a[0] = __smlabb(xe, fe, a[0]);
            a[2] = __smlatt(xe, fe, a[2]);
            a[1] = __smlabb(xo, fo, a[1]);
            a[3] = __smlatt(xo, fo, a[3]);
        }
    }
}

static void quad_window3(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                         const int32_t *start, int32_t *a)
{
    quad_window(taps, x_p, f_p, 0, start, a);
}

static void quad_window2_off(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                             int32_t off2, const int32_t *start, int32_t *a)
{
    quad_window(taps, x_p, f_p, off2, start, a);
}

static void quad_window3_off(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                             int32_t off2, const int32_t *start, int32_t *a)
{
    quad_window(taps, x_p, f_p, off2, start, a);
}

static void quad_window3x3(const int8_t *x_p, const int8_t *f_p, int32_t ch, int32_t in_row,
                           const int32_t *start, int32_t *a)
{
    dw_taps taps;
    taps.rows = taps.cols = 3;
    taps.in_row = in_row;
    taps.w_row = 3 * ch;
    taps.ch = ch;
    quad_window(&taps, x_p, f_p, 0, start, a);
}

#endif

/* acc[c] = start[c] (0 when start is NULL) + sum over the taps of
 * (in + off) * w for channels c < 4 * quads (depth multiplier 1); off2 is the
 * input offset in both halfwords, or 0 when start has it folded in. Out of
 * line so that the asm gets the registers. */
__attribute__((noinline)) static void quads_dot(const dw_taps *taps, int32_t quads,
                                                int32_t off2, const int32_t *start,
                                                int32_t *acc)
{
    static const int32_t zeros[4] = {0, 0, 0, 0};
    int32_t q;
    if (taps->rows < 1 || taps->cols < 1) {
        if (start != NULL) {
            memcpy(acc, start, (size_t)quads * 4 * sizeof *acc);
        } else {
            memset(acc, 0, (size_t)quads * 4 * sizeof *acc);
        }
        return;
    }
    for (q = 0; q < quads; q++) {
        const int8_t *in = taps->in + 4 * q, *w = taps->w + 4 * q;
        const int32_t *s = start != NULL ? start + 4 * q : zeros;
        if (off2 == 0 && taps->cols == 3) {
            quad_window3(taps, in, w, s, acc + 4 * q);
        } else if (taps->cols == 3) {
            quad_window3_off(taps, in, w, off2, s, acc + 4 * q);
        } else if (taps->cols == 2) {
            quad_window2_off(taps, in, w, off2, s, acc + 4 * q);
        } else {
            quad_window(taps, in, w, off2, s, acc + 4 * q);
        }
    }
}

/* out[k] = te_dsp_out_s8(te_dsp_rq_apply(acc[k], &rq[k]), out_off, -128, 127, 1)
 * for k < n (n >= 1): requant_run's common case, each channel's four fields
 * taken by one LDM (GCC loads them one by one). */
#if TE_DSP_ASM
static void requant_channels(const int32_t *acc, const te_dsp_rq *rq, int32_t n,
                             int32_t out_off, int8_t *out)
{
    register int32_t m __asm__("r8");
    register uint32_t round_lo __asm__("r9");
    register int32_t round_hi __asm__("r10");
    register int32_t right __asm__("r11");
    int32_t x, lo, hi;
    __asm__ volatile(
        "1:\n\t"
        "ldm %[rq]!, {r8, r9, r10, r11}\n\t"
        "ldr %[x], [%[acc]], #4\n\t"
        "and %[lo], %[x], #0x80000000\n\t"
        "adds %[lo], %[lo], %[rlo]\n\t"
        "sbc %[hi], %[rhi], %[x], lsr #31\n\t"
        "smlal %[lo], %[hi], %[x], %[m]\n\t"
        "asr %[hi], %[hi], %[right]\n\t"
        "add %[hi], %[hi], %[off]\n\t"
        "ssat %[hi], #8, %[hi]\n\t"
        "strb %[hi], [%[out]], #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        : [rq] "+r"(rq), [acc] "+r"(acc), [out] "+r"(out), [n] "+r"(n), [x] "=&r"(x),
          [lo] "=&r"(lo), [hi] "=&r"(hi), [m] "=&r"(m), [rlo] "=&r"(round_lo),
          [rhi] "=&r"(round_hi), [right] "=&r"(right)
        : [off] "r"(out_off)
        : "cc", "memory");
}
#else
static void requant_channels(const int32_t *acc, const te_dsp_rq *rq, int32_t n,
                             int32_t out_off, int8_t *out)
{
    int32_t k;
    for (k = 0; k < n; k++) {
        out[k] = te_dsp_out_s8(te_dsp_rq_apply(acc[k], &rq[k]), out_off, -128, 127, 1);
    }
}
#endif

/* out[k] = requantized acc[k] for output channels first .. first + n - 1. */
static void requant_run(const dw_layer *l, const int32_t *acc, int32_t first, int32_t n,
                        int8_t *out)
{
    const int32_t step = l->quant->count != 1;
    const int32_t *mult = l->quant->multipliers + step * first;
    const int32_t *shift = l->quant->shifts + step * first;
    const int32_t out_off = l->params->output_offset;
    const int32_t lo = l->params->activation_min, hi = l->params->activation_max;
    const te_dsp_rq *rq = l->rq + step * first;
    int32_t k;
    if (l->prepared && l->full_range && step == 1 && n > 0) {
        requant_channels(acc, rq, n, out_off, out);
        return;
    }
    if (l->prepared && l->full_range) {
        for (k = 0; k < n; k++, rq += step) {
            out[k] = te_dsp_out_s8(te_dsp_rq_apply(acc[k], rq), out_off, -128, 127, 1);
        }
        return;
    }
    if (l->prepared) {
        for (k = 0; k < n; k++, rq += step) {
            out[k] = te_dsp_out_s8(te_dsp_rq_apply(acc[k], rq), out_off, lo, hi, 0);
        }
        return;
    }
    for (k = 0; k < n; k++) {
        const int32_t r = te_dsp_mbqm(acc[k], *mult, *shift);
        out[k] = (int8_t)te_clamp_s32(te_add_wrap_s32(r, out_off), lo, hi);
        mult += step;
        shift += step;
    }
}

/* Channels handled per block: their sums wait on the stack until the block's
 * reads are done. */
#define TE_DSP_DW_BLOCK 64

/* One output pixel. init: per-channel bias + offset * weight sum when the
 * window is inside the image and depth multiplier is 1, else NULL. */
static void one_pixel(const dw_layer *l, const int8_t *in_b, const dw_window *win,
                      const int32_t *init, int8_t *out)
{
    const int32_t off = l->params->input_offset, dm = l->params->depth_multiplier;
    const int32_t dh = l->params->dilation_h, dw = l->params->dilation_w;
    int32_t acc[TE_DSP_DW_BLOCK];
    const int any_tap = win->ky0 < win->ky1;
    dw_taps taps;
    int32_t c, k, m;
    /* (no pointer past the image when the window has no tap) */
    taps.in = any_tap ? in_b + ((win->y0 + win->ky0 * dh) * l->in_w + win->x0
                                + win->kx0 * dw) * l->channels
                      : in_b;
    taps.w = any_tap ? l->filter + (win->ky0 * l->k_w + win->kx0) * l->out_c : l->filter;
    taps.rows = win->ky1 - win->ky0;
    taps.cols = win->kx1 - win->kx0;
    taps.in_row = dh * l->in_w * l->channels;
    taps.w_row = l->k_w * l->out_c;
    taps.ch = l->out_c;
    if (dm != 1 || dw != 1) {
        /* rare in models: one channel at a time */
        for (c = 0; c < l->channels; c++) {
            for (m = 0; m < dm; m++) {
                const int32_t oc = c * dm + m;
                acc[0] = channel_dot(l, in_b, win, c, oc, off, bias_of(l, oc));
                requant_run(l, acc, oc, 1, out + oc);
            }
        }
        return;
    }
    for (c = 0; c < l->channels; c += TE_DSP_DW_BLOCK) {
        const int32_t n = te_min_s32(TE_DSP_DW_BLOCK, l->channels - c);
        const int32_t quads = n / 4;
        dw_taps block = taps;
        block.in += c;
        block.w += c;
        if (init != NULL) {
            quads_dot(&block, quads, 0, init + c, acc);
        } else {
            quads_dot(&block, quads, te_dsp_dup16(off), l->bias != NULL ? l->bias + c : NULL,
                      acc);
        }
        for (k = 4 * quads; k < n; k++) {
            acc[k] = init != NULL ? channel_dot(l, in_b, win, c + k, c + k, 0, init[c + k])
                                  : channel_dot(l, in_b, win, c + k, c + k, off,
                                                bias_of(l, c + k));
        }
        requant_run(l, acc, c, n, out + c);
    }
}

/* count output pixels with 3x3 windows (depth multiplier 1, dilation_w 1)
 * that need no bounds checks: the window of pixel p starts at in + p * in_step,
 * its rows in_row apart, its taps ch apart. one_pixel's work without its
 * per-pixel set-up; init: the folded sums. */
__attribute__((noinline)) static void window_run_3x3(const dw_layer *l, const int8_t *in,
                                                    int32_t in_row, int32_t in_step,
                                                    int32_t count, const int32_t *init,
                                                    int8_t *out)
{
    const int32_t ch = l->channels;
    /* requant_run's asm case, without its per-call set-up */
    const int direct_requant = l->prepared && l->full_range && l->quant->count != 1;
    int32_t acc[TE_DSP_DW_BLOCK];
    int32_t p, c, k, t;
    for (p = 0; p < count; p++, in += in_step, out += ch) {
        for (c = 0; c < ch; c += TE_DSP_DW_BLOCK) {
            const int32_t n = te_min_s32(TE_DSP_DW_BLOCK, ch - c);
            const int32_t quads = n / 4;
            for (k = 0; k < quads; k++) {
                quad_window3x3(in + c + 4 * k, l->filter + c + 4 * k, ch, in_row,
                               init + c + 4 * k, acc + 4 * k);
            }
            for (k = 4 * quads; k < n; k++) {
                /* the channels after the last quad */
                acc[k] = init[c + k];
                for (t = 0; t < 9; t++) {
                    acc[k] = te_dsp_wadd(acc[k], in[(t / 3) * in_row + (t % 3) * ch + c + k] *
                                                     l->filter[t * ch + c + k]);
                }
            }
            if (direct_requant) {
                requant_channels(acc, l->rq + c, n, l->params->output_offset, out + c);
                continue;
            }
            requant_run(l, acc, c, n, out + c);
        }
    }
}

static void depthwise(const dw_layer *l, int32_t batches, const int8_t *input,
                      int32_t out_h, int32_t out_w, int8_t *output)
{
    const te_conv_params *p = l->params;
    const int fold = p->depth_multiplier == 1 && p->dilation_w == 1 &&
                     l->channels <= TE_DSP_DW_MAX_CH;
    const int32_t span_h = (l->k_h - 1) * p->dilation_h, span_w = (l->k_w - 1) * p->dilation_w;
    const int whole_3x3 = fold && l->k_h == 3 && l->k_w == 3;
    int32_t init[fold ? l->channels : 1];
    int32_t batch, oy, ox, c, t;

    if (fold) {
        for (c = 0; c < l->channels; c++) {
            int32_t weight_sum = 0;
            for (t = 0; t < l->k_h * l->k_w; t++) {
                weight_sum += l->filter[t * l->out_c + c];
            }
            init[c] = te_dsp_wadd(bias_of(l, c), te_dsp_wmul(p->input_offset, weight_sum));
        }
    }
    for (batch = 0; batch < batches; batch++) {
        const int8_t *in_b = input + batch * l->in_h * l->in_w * l->channels;
        for (oy = 0; oy < out_h; oy++) {
            dw_window win;
            int8_t *out_row = output + (batch * out_h + oy) * out_w * l->out_c;
            int32_t ky0, ky1;
            int y_inside;
            win.y0 = oy * p->stride_h - p->pad_h;
            y_inside = win.y0 >= 0 && win.y0 + span_h < l->in_h;
            tap_range(win.y0, p->dilation_h, l->in_h, l->k_h, &ky0, &ky1);
            for (ox = 0; ox < out_w; ox++) {
                win.x0 = ox * p->stride_w - p->pad_w;
                if (whole_3x3 && y_inside && win.x0 >= 0 && win.x0 + span_w < l->in_w) {
                    /* this pixel and the next ones inside the image, at once */
                    const int32_t count =
                        te_min_s32(out_w - ox, (l->in_w - 1 - span_w - win.x0) / p->stride_w + 1);
                    window_run_3x3(l, in_b + (win.y0 * l->in_w + win.x0) * l->channels,
                                   p->dilation_h * l->in_w * l->channels,
                                   p->stride_w * l->channels, count, init,
                                   out_row + ox * l->out_c);
                    ox += count - 1;
                    continue;
                }
                win.ky0 = ky0;
                win.ky1 = ky1;
                tap_range(win.x0, p->dilation_w, l->in_w, l->k_w, &win.kx0, &win.kx1);
                if (win.ky0 >= win.ky1 || win.kx0 >= win.kx1) {
                    win.ky1 = win.ky0; /* no tap inside the image */
                    win.kx1 = win.kx0;
                }
                one_pixel(l, in_b, &win,
                          fold && y_inside && win.x0 >= 0 && win.x0 + span_w < l->in_w ? init
                                                                                       : NULL,
                          out_row + ox * l->out_c);
            }
        }
    }
}

te_status te_depthwise_conv2d_s8(const te_conv_params *params, const te_requant *quant,
                                 const te_dims *input_dims, const int8_t *input,
                                 const te_dims *filter_dims, const int8_t *filter,
                                 const int32_t *bias,
                                 const te_dims *output_dims, int8_t *output)
{
    dw_layer layer;

    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    if (params->depth_multiplier < 1 ||
        input_dims->n < 1 || input_dims->h < 1 || input_dims->w < 1 || input_dims->c < 1 ||
        filter_dims->n != 1 || filter_dims->h < 1 || filter_dims->w < 1 ||
        output_dims->h < 1 || output_dims->w < 1 ||
        output_dims->n != input_dims->n || output_dims->c != filter_dims->c ||
        output_dims->c != input_dims->c * params->depth_multiplier) {
        return TE_ARG_ERROR;
    }
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

    /* sized once quant->count is known to be 1 or C_out */
    te_dsp_rq rq[quant->count <= TE_DSP_RQ_MAX_CH ? quant->count : 1];
    layer.params = params;
    layer.quant = quant;
    layer.rq = rq;
    layer.prepared = te_dsp_rq_table(rq, quant->multipliers, quant->shifts, quant->count);
    layer.full_range = params->activation_min == -128 && params->activation_max == 127;
    layer.filter = filter;
    layer.bias = bias;
    layer.in_h = input_dims->h;
    layer.in_w = input_dims->w;
    layer.channels = input_dims->c;
    layer.k_h = filter_dims->h;
    layer.k_w = filter_dims->w;
    layer.out_c = output_dims->c;
    depthwise(&layer, input_dims->n, input, output_dims->h, output_dims->w, output);
    return TE_OK;
}
