/* DEPTHWISE_CONV_2D, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/depthwise_conv2d_s8.c.
 *
 * 3x3 windows at strides 1 and 2 over rows of 8 or more pixels take the band
 * path (plan_band, below): bands of output rows, channel by channel, from a
 * channel-major copy of the input. Other such layers take the plane path
 * (depthwise_planes) where their output's placement allows it: the same
 * per-channel loops over whole images (or bands of rows, for big ones), a
 * block of channels at a time, the copy transposed when the image is taller
 * than wide. The rest takes the pixel path (or, in a build whose te_paths.h
 * leaves it out because no layer of its model needs it, plain loops):
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
 * Dilated rows (dilation_w > 1) take the general quad loop, their input taps
 * dilation_w * C apart. Other depth multipliers, and the channels left over
 * after the quads, take a per-channel loop. Requantization is te_dsp_rq_apply
 * with the per-channel form prepared once per call, or te_dsp_mbqm when that
 * form does not apply (both te_mbqm's result). Consecutive pixels whose 3x3 windows
 * lie inside the image run as one batch (window_run_3x3), each window
 * unrolled, its sums started from the folded per-channel values.
 *
 * Order of reads and writes (pixel path): one pixel at a time in raster
 * order, a pixel's channels written while only its own reads remain, as the
 * reference does and as the memory planner assumes when it lets the output
 * overlap the input (tinyedge/planner/overlap.py).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "te_dsp.h"

#include <stddef.h>
#include <string.h>

/* Above this many channels the folded sums are not kept on the stack and
 * every pixel adds the offset to its input. */
#define TE_DSP_DW_MAX_CH 512
/* Filters up to this many bytes are copied to the stack once per call for the
 * pixel path, which reads all of them at every pixel: from flash behind a
 * small cache (an STM32's ART keeps 256 B of data) each pixel would wait for
 * them again. -DTE_DSP_DW_WEIGHT_COPY=0 turns the copy off (flash without
 * wait states gains nothing from it). */
#ifndef TE_DSP_DW_WEIGHT_COPY
#define TE_DSP_DW_WEIGHT_COPY 1152
#endif

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

/* Where a pixel's valid taps are (depth multiplier 1): tap (r, t) of channel
 * c reads in + r * in_row + t * in_step + c and w + r * w_row + t * ch + c
 * (in_step: dilation_w * ch). */
typedef struct {
    const int8_t *in, *w;
    int32_t rows, cols, in_row, w_row, ch, in_step;
} dw_taps;

/* The inner loops are asm (C at -O0, TE_DSP_ASM): GCC spills the four
 * accumulators of the C version. They take a window of rows x cols >= 1 x 1
 * taps for 4 channels (taps->in and taps->w already point at the first tap of
 * the first channel) and leave start[0..3] plus the sums in a[0..3]. */

#if TE_DSP_ASM
/* The quad loops' operands in fixed registers, r7 left out: left to choose,
 * GCC finds no room for them ("impossible constraints") in some builds that
 * keep a frame pointer in r7 (-fno-omit-frame-pointer with the hard-float
 * ABI at -O1/-Os, or for the Cortex-M55). ch goes in r11, off2 or in_row in
 * r12 and in_step in lr, where a loop takes them. */
#define TE_DW_QUAD_REGS                                                      \
    register int32_t a0 __asm__("r0") = start[0];                            \
    register int32_t a1 __asm__("r1") = start[1];                            \
    register int32_t a2 __asm__("r2") = start[2];                            \
    register int32_t a3 __asm__("r3") = start[3];                            \
    register const int8_t *xp __asm__("r4") = x_p;                           \
    register const int8_t *fp __asm__("r5") = f_p;                           \
    register int32_t x __asm__("r6");                                        \
    register int32_t f __asm__("r8");                                        \
    register int32_t xe __asm__("r9");                                       \
    register int32_t fe __asm__("r10")

#define TE_DW_QUAD_OUTPUTS                                                   \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),              \
    [xp] "+r"(xp), [fp] "+r"(fp),                                            \
    [x] "=&r"(x), [f] "=&r"(f), [xe] "=&r"(xe), [fe] "=&r"(fe)

/* Any window, the input's taps in_step apart (dilation_w * ch) and the
 * weights' ch apart; off2 (the input offset in both halfwords, 0 when folded)
 * is added to the widened input. */
static inline void quad_window(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                               int32_t off2, const int32_t *start, int32_t *a)
{
    const int32_t in_skip = taps->in_row - taps->cols * taps->in_step;
    const int32_t w_skip = taps->w_row - taps->cols * taps->ch;
    const int32_t row_bytes = taps->cols * taps->ch;
    const int8_t *const f_end = f_p + taps->rows * taps->w_row;
    const int8_t *row_end;
    TE_DW_QUAD_REGS;
    register int32_t ch __asm__("r11") = taps->ch;
    register int32_t off2_r __asm__("r12") = off2;
    register int32_t in_step __asm__("lr") = taps->in_step;
    __asm__ volatile(
        "2:\n\t"
        "ldr %[xe], %[rowbytes]\n\t"
        "add %[xe], %[fp], %[xe]\n\t"
        "str %[xe], %[rowend]\n\t"
        "1:\n\t"
        "ldr %[x], [%[xp]]\n\t"
        "ldr %[f], [%[fp]]\n\t"
        "add %[xp], %[xp], %[instep]\n\t"
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
        : TE_DW_QUAD_OUTPUTS, [rowend] "=m"(row_end)
        : [ch] "r"(ch), [off2] "r"(off2_r), [instep] "r"(in_step),
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

/* A window of one row (a column window turned into a row, one_pixel), offset
 * folded: no loop over rows, the end of the weights in a register. */
static inline void quad_row(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                            const int32_t *start, int32_t *a)
{
    TE_DW_QUAD_REGS;
    register int32_t ch __asm__("r11") = taps->ch;
    register int32_t in_step __asm__("r12") = taps->in_step;
    register const int8_t *f_end __asm__("lr") = f_p + taps->cols * taps->ch;
    __asm__ volatile(
        "1:\n\t"
        TE_DW_TAP3("[%[xp]]", "[%[fp]]")
        "add %[xp], %[xp], %[instep]\n\t"
        "add %[fp], %[fp], %[ch]\n\t"
        "cmp %[fp], %[end]\n\t"
        "bne 1b\n\t"
        : TE_DW_QUAD_OUTPUTS
        : [ch] "r"(ch), [instep] "r"(in_step), [end] "r"(f_end)
        : "cc", "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

/* Rows of exactly 3 taps (3x3 kernels), dilation_w 1, offset folded:
 * unrolled, the taps addressed from the row start. */
static inline void quad_window3(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                                const int32_t *start, int32_t *a)
{
    const int8_t *const f_end = f_p + taps->rows * taps->w_row;
    const int32_t in_row = taps->in_row, w_row = taps->w_row; /* "m": on the stack */
    TE_DW_QUAD_REGS;
    register int32_t ch __asm__("r11") = taps->ch;
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
        : TE_DW_QUAD_OUTPUTS
        : [ch] "r"(ch), [inrow] "m"(in_row), [wrow] "m"(w_row), [end] "m"(f_end)
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
    const int32_t in_row = taps->in_row, w_row = taps->w_row;                    \
    TE_DW_QUAD_REGS;                                                             \
    register int32_t ch __asm__("r11") = taps->ch;                               \
    register int32_t off2_r __asm__("r12") = off2;                               \
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
        : TE_DW_QUAD_OUTPUTS                                                     \
        : [ch] "r"(ch), [off2] "r"(off2_r),                                      \
          [inrow] "m"(in_row), [wrow] "m"(w_row), [end] "m"(f_end)              \
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
    TE_DW_QUAD_REGS;
    register int32_t ch_r __asm__("r11") = ch;
    register int32_t in_row_r __asm__("r12") = in_row;
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
        : TE_DW_QUAD_OUTPUTS
        : [ch] "r"(ch_r), [inrow] "r"(in_row_r)
        : "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

#undef TE_DW_TAP3
#undef TE_DW_ADD_OFFSET
#undef TE_DW_TAP
#undef TE_DW_QUAD_OUTPUTS
#undef TE_DW_QUAD_REGS

#else

static void quad_window(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                        int32_t off2, const int32_t *start, int32_t *a)
{
    int32_t r, t;
    memcpy(a, start, 4 * sizeof *a);
    for (r = 0; r < taps->rows; r++) {
        const int8_t *x_r = x_p + r * taps->in_row, *f_r = f_p + r * taps->w_row;
        for (t = 0; t < taps->cols; t++) {
            const int32_t x = te_dsp_ld4(x_r + t * taps->in_step);
            const int32_t f = te_dsp_ld4(f_r + t * taps->ch);
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

static void quad_row(const dw_taps *taps, const int8_t *x_p, const int8_t *f_p,
                     const int32_t *start, int32_t *a)
{
    quad_window(taps, x_p, f_p, 0, start, a);
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
    taps.ch = taps.in_step = ch;
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
    if (off2 == 0 && taps->rows == 1) {
        /* one-row windows (one_pixel's columns turned into rows) */
        for (q = 0; q < quads; q++) {
            quad_row(taps, taps->in + 4 * q, taps->w + 4 * q,
                     start != NULL ? start + 4 * q : zeros, acc + 4 * q);
        }
        return;
    }
    for (q = 0; q < quads; q++) {
        const int8_t *in = taps->in + 4 * q, *w = taps->w + 4 * q;
        const int32_t *s = start != NULL ? start + 4 * q : zeros;
        if (taps->in_step != taps->ch) {
            /* dilated rows: the unrolled loops below take taps ch apart */
            quad_window(taps, in, w, off2, s, acc + 4 * q);
        } else if (off2 == 0 && taps->cols == 3) {
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
        TE_DSP_RQ_APPLY_ASM("%[x]", "%[m]", "%[rlo]", "%[rhi]", "%[right]", "%[lo]", "%[hi]")
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
    const int8_t *shift = l->quant->shifts + step * first;
    const int32_t out_off = l->params->output_offset;
    const int32_t lo = l->params->activation_min, hi = l->params->activation_max;
    const te_dsp_rq *rq = l->rq + step * first;
    int32_t k;
    if (l->prepared && step == 1 && n > 0) {
        requant_channels(acc, rq, n, out_off, out);
        if (!l->full_range) {
            te_dsp_clamp_s8(out, n, lo, hi);
        }
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
    taps.in_step = dw * l->channels;
    if (l->k_w == 1 && taps.cols == 1 && taps.rows > 1) {
        /* a column of taps (a kh x 1 kernel, as temporal convolutions have):
         * one row of them, in_row apart in the input and w_row (ch, as k_w
         * is 1) in the weights, which the quad loops run without a loop over
         * rows */
        taps.cols = taps.rows;
        taps.rows = 1;
        taps.in_step = taps.in_row;
        taps.w_row = taps.cols * taps.ch;
    }
    if (dm != 1) {
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
    const int direct_requant = l->prepared && l->quant->count != 1;
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
                if (!l->full_range) {
                    te_dsp_clamp_s8(out + c, n, l->params->activation_min,
                                    l->params->activation_max);
                }
                continue;
            }
            requant_run(l, acc, c, n, out + c);
        }
    }
}

/* The band path: 3x3 windows, strides 1 or 2, depth multiplier 1, dilation 1,
 * and rows wide enough that it beats the pixel path (below). A band of whole
 * output rows is computed channel by channel from a copy of the input rows
 * under it, channel-major, on the stack: each channel's nine weights then
 * stay in registers and one SMLAD takes two taps of a row. The copy holds
 * -input_offset in the padding, where (in + off) is 0, so every window is a
 * whole 3x3 one whose sum starts from bias + off * sum w (wrapping, as the
 * reference's uint32 sum). Each channel's sums go to a small buffer and are
 * then requantized with its fields in registers.
 * Order of reads and writes: a band's input is all copied before its first
 * output is written, and every byte a later band reads lies at or past the
 * window of that band's first pixel, which is all the memory planner needs
 * of the pixel-by-pixel order. */
#ifndef TE_DSP_DW_BAND_BYTES
#define TE_DSP_DW_BAND_BYTES 4096
#endif
/* Narrower rows take the pixel path: the copy and the per-channel set-up
 * cost more than the band path saves (KWS's 5-wide rows, for one). */
#define TE_DSP_DW_BAND_MIN_COLS 8

typedef struct {
    int32_t rows;  /* output rows of a full band */
    int32_t pitch; /* bytes per copied row (band_pitch) */
    int32_t plane; /* bytes per channel: pitch * copy_span(rows, row stride) */
} dw_band;

/* How depthwise_planes runs a layer: bands of rows (the band path: one block
 * of every channel), or whole planes of a block of channels (the plane path,
 * below) */
typedef struct {
    dw_band band;   /* rows: rows of the copy (out_h, or out_w when transposed) */
    int32_t cols;   /* outputs per row of the copy */
    int32_t block;  /* channels per copy */
    int transposed;
} dw_planes;

/* Whether band_dot can compute this layer: 3x3 windows, strides 1 or 2,
 * depth multiplier 1, dilation 1 (the band and plane paths). */
static int band_shaped(const dw_layer *l)
{
    const te_conv_params *p = l->params;
    const int32_t max_stride = TE_DW_STRIDE2 ? 2 : 1;
    return p->depth_multiplier == 1 && p->dilation_h == 1 && p->dilation_w == 1 &&
           p->stride_h <= max_stride && p->stride_w <= max_stride && l->k_h == 3 && l->k_w == 3;
}

/* Input rows (or columns) under n outputs of 3 taps at this stride */
static inline int32_t copy_span(int32_t n, int32_t stride)
{
    return (n - 1) * stride + 3;
}

/* Bytes per copied row of cols outputs at this stride: the row's
 * copy_span, and what band_dot's last step reads past it (it takes two
 * outputs per step, 4-byte loads): one byte at stride 1, and at stride 2
 * one, or three when cols is odd. */
static inline int32_t band_pitch(int32_t cols, int32_t stride)
{
    return stride == 1 ? cols + 3 : 2 * (cols + (cols & 1)) + 2;
}

/* Output rows of a band that fit TE_DSP_DW_BAND_BYTES with their copy
 * (row_bytes per copied row, copy_span(rows, stride_h) rows) and the sums of
 * one channel (4 * out_w bytes per row, plus 4); below 1 when none fit.
 * row_bytes <= 4 * 4098 and out_w <= 4096: no overflow. */
static inline int32_t band_rows(int32_t row_bytes, int32_t out_w, int32_t stride_h)
{
    return (TE_DSP_DW_BAND_BYTES - 4 - (3 - stride_h) * row_bytes) /
           (stride_h * row_bytes + 4 * out_w);
}

/* The band shape for this layer, 0 when it takes the pixel path: as many
 * rows as band_rows allows for all the channels. At stride 2 a band needs
 * two rows at least: one alone copies three input rows, one of them again
 * for the next band, and sets every channel up for one row of outputs (the
 * plane path's bands of 4 channels take VWW's 48 x 48 layer 18% faster). */
static int plan_band(const dw_layer *l, int32_t out_h, int32_t out_w, dw_planes *pl)
{
    dw_band *const b = &pl->band;
    const int32_t stride_h = l->params->stride_h;
    if (!band_shaped(l) || out_w < TE_DSP_DW_BAND_MIN_COLS || out_w > TE_DSP_DW_BAND_BYTES) {
        return 0;
    }
    b->pitch = band_pitch(out_w, l->params->stride_w);
    if (l->channels > TE_DSP_DW_BAND_BYTES / b->pitch) {
        return 0;
    }
    b->rows = band_rows(l->channels * b->pitch, out_w, stride_h);
    if (b->rows < stride_h) {
        return 0;
    }
    b->rows = te_min_s32(out_h, b->rows);
    b->plane = b->pitch * copy_span(b->rows, stride_h);
    pl->cols = out_w;
    pl->block = l->channels;
    pl->transposed = 0;
    return 1;
}

/* bytes 1 and 3 zero-extended to two halfwords */
static inline uint32_t uxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("uxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* The bottom halfwords of lo and hi, hi's on top */
static inline uint32_t pkhbt16(uint32_t lo, uint32_t hi)
{
    uint32_t r;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
    return r;
}

/* The top halfwords of lo and hi, hi's on top */
static inline uint32_t pkhtb16(uint32_t hi, uint32_t lo)
{
    uint32_t r;
    __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
    return r;
}

/* pkhbt16 for the signed values of the band's fields */
static inline int32_t pack16(int32_t lo, int32_t hi)
{
    return (int32_t)pkhbt16((uint32_t)lo, (uint32_t)hi);
}

/* A 4x4 byte transpose: channel c (0..3) of pixel k (0..3), s[k * step + c],
 * goes to d[c * plane + k]. */
static inline void transpose4x4(const int8_t *s, int32_t step, int8_t *d, int32_t plane)
{
    const uint32_t a = (uint32_t)te_dsp_ld4(s), b = (uint32_t)te_dsp_ld4(s + step);
    const uint32_t c = (uint32_t)te_dsp_ld4(s + 2 * step), e = (uint32_t)te_dsp_ld4(s + 3 * step);
    /* (a0 b0 a2 b2), (a1 b1 a3 b3) and the same for c, e */
    const uint32_t ab_even = __uxtb16(a) | (__uxtb16(b) << 8);
    const uint32_t ab_odd = uxtb16_ror8(a) | (b & 0xff00ff00u);
    const uint32_t ce_even = __uxtb16(c) | (__uxtb16(e) << 8);
    const uint32_t ce_odd = uxtb16_ror8(c) | (e & 0xff00ff00u);
    te_dsp_st4(d, pkhbt16(ab_even, ce_even));
    te_dsp_st4(d + plane, pkhbt16(ab_odd, ce_odd));
    te_dsp_st4(d + 2 * plane, pkhtb16(ce_even, ab_even));
    te_dsp_st4(d + 3 * plane, pkhtb16(ce_odd, ab_odd));
}

/* Copies the image pixels of rows y0 .. y0 + rows - 1 and columns
 * x0 .. x0 + cols - 1 of an image of in_rows x in_cols pixels into buf:
 * channel c (of `channels`, from src's) at buf + c * plane, row r at
 * r * pitch. Pixel (y, x) is at src + y * row_step + x * col_step, so that a
 * transposed copy (rows of the copy along the image's columns) is the same
 * loop. Positions outside the image are not written (the caller has the
 * padding there). */
static void band_fill(const int8_t *src, int32_t row_step, int32_t col_step, int32_t in_rows,
                      int32_t in_cols, int32_t channels, int32_t y0, int32_t x0, int32_t rows,
                      int32_t cols, const dw_band *b, int8_t *buf)
{
    const int32_t plane = b->plane;
    const int32_t j0 = te_max_s32(0, -x0), j1 = te_min_s32(cols, in_cols - x0);
    const int32_t r0 = te_max_s32(0, -y0), r1 = te_min_s32(rows, in_rows - y0);
    int32_t r, j, c;
    for (r = r0; r < r1; r++) {
        const int8_t *s_row = src + (y0 + r) * row_step + (x0 + j0) * col_step;
        int8_t *d_row = buf + r * b->pitch + j0;
        for (c = 0; c + 4 <= channels; c += 4) {
            const int8_t *s = s_row + c;
            int8_t *d = d_row + c * plane;
            for (j = j0; j + 4 <= j1; j += 4, s += 4 * col_step, d += 4) {
                transpose4x4(s, col_step, d, plane);
            }
            for (; j < j1; j++, s += col_step, d++) {
                d[0] = s[0];
                d[plane] = s[1];
                d[2 * plane] = s[2];
                d[3 * plane] = s[3];
            }
        }
        for (; c < channels; c++) {
            const int8_t *s = s_row + c;
            int8_t *d = d_row + c * plane;
            for (j = j0; j < j1; j++, s += col_step, d++) {
                *d = *s;
            }
        }
    }
}

/* One channel of a band, for the asm: its copy's rows at x, pitch apart; the
 * weights as halfword pairs, (w0, w2), (w3, w5), (w6, w8) for SMLAD and
 * (w1, w4), (w7, steps - 1) for SMLABB and friends (tap t = 3 * row +
 * column); then the requantization. The asm reads the fields at these
 * offsets. Output rows start row_step bytes apart in the copy (the stride
 * across its rows times pitch). */
typedef struct {
    const int8_t *x;   /* 0 */
    int32_t pitch;     /* 4 */
    int32_t w02[3];    /* 8 */
    int32_t w1_01;     /* 20 */
    int32_t w1_2;      /* 24: w7 in the bottom halfword, steps per row - 1 in the top */
    int32_t init;      /* 28: bias + off * sum w */
    int32_t *acc;      /* 32: the sums, cols per row */
    int32_t rows;      /* 36 */
    int32_t cols;      /* 40 */
    te_dsp_rq rq;      /* 44: with out_off folded in (band_channel) */
    int8_t *out;       /* 60: the band's first output of this channel */
    int32_t ch;        /* 64: output step between columns */
    int32_t out_skip;  /* 68: from past a row's last output to the next row's first */
    int32_t row_step;  /* 72 */
} band_job;
typedef char te_band_job_layout[offsetof(band_job, rq) == 44 && offsetof(band_job, row_step) == 72
                                    ? 1 : -1];

/* What runs for each channel of a band (band_channel, band_dot or
 * band_dot_s2, band_requant: under 1 KB) goes in one section, so that it
 * lies together in flash and no part of it evicts another from a small
 * instruction cache, wherever the linker puts the rest. */
#define TE_DW_BAND_SECTION __attribute__((noinline, section(".text.te_dw_band")))

#if TE_DSP_ASM
/* The body of band_dot and band_dot_s2: for each row, one LDM of the job's
 * first nine fields (x, pitch, the weights, init, acc: r0-r6, r8, r9), STEP
 * (two sums into r10 and r11, x moved on) and their store, as many times as
 * the top halfword of w1_2 (r6) says plus one; then x moved on by row_step,
 * acc past the row's sums and the rows counted down, in the job, which waits
 * on the stack while the steps take every register but r7. */
#define TE_DW_BAND_ROWS(STEP)                                                    \
    register band_job *j __asm__("r12") = job;                                   \
    __asm__ volatile(                                                            \
        "str r12, [sp, #-8]!\n\t"                                                \
        "1:\n\t"                                                                 \
        "ldm r12, {r0, r1, r2, r3, r4, r5, r6, r8, r9}\n\t"                      \
        "2:\n\t"                                                                 \
        STEP                                                                     \
        "strd r10, r11, [r9], #8\n\t"                                            \
        "subs r6, r6, #0x10000\n\t"                                              \
        "bhs 2b\n\t"                                                             \
        "ldr r12, [sp]\n\t"                                                      \
        "ldr r0, [r12]\n\t"                                                      \
        "ldr r1, [r12, #72]\n\t"                                                 \
        "add r0, r0, r1\n\t"                                                     \
        "str r0, [r12]\n\t"                                                      \
        "ldr r9, [r12, #32]\n\t"                                                 \
        "ldr r3, [r12, #40]\n\t"                                                 \
        "add r9, r9, r3, lsl #2\n\t"                                             \
        "str r9, [r12, #32]\n\t"                                                 \
        "ldr r3, [r12, #36]\n\t"                                                 \
        "subs r3, r3, #1\n\t"                                                    \
        "str r3, [r12, #36]\n\t"                                                 \
        "bne 1b\n\t"                                                             \
        "add sp, sp, #8\n\t"                                                     \
        : "+r"(j)                                                                \
        :                                                                        \
        : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "lr", \
          "cc", "memory")

/* The sums of every row of the band, two outputs per step: with e = (x0, x2)
 * and o = (x1, x3) from one 4-byte load of a row, SMLAD(e, (w0, w2)) +
 * x1 * w1 is that row's share of the first output and SMLAD(o, (w0, w2)) +
 * x2 * w1 of the second. 24 instructions for 18 MACs; the steps count down
 * in w1_2's top halfword. An odd row's last sum lies past its outputs, where
 * the next row's first overwrites it. */
TE_DW_BAND_SECTION static void band_dot(band_job *job)
{
    TE_DW_BAND_ROWS(
        "ldr r12, [r0, r1]\n\t"
        "sxtb16 lr, r12\n\t"
        "sxtb16 r12, r12, ror #8\n\t"
        "smlad r10, lr, r3, r8\n\t"
        "smlabt r10, r12, r5, r10\n\t"
        "smlad r11, r12, r3, r8\n\t"
        "smlatt r11, lr, r5, r11\n\t"
        "ldr r12, [r0, r1, lsl #1]\n\t"
        "sxtb16 lr, r12\n\t"
        "sxtb16 r12, r12, ror #8\n\t"
        "smlad r10, lr, r4, r10\n\t"
        "smlabb r10, r12, r6, r10\n\t"
        "smlad r11, r12, r4, r11\n\t"
        "smlatb r11, lr, r6, r11\n\t"
        "ldr r12, [r0], #2\n\t"
        "sxtb16 lr, r12\n\t"
        "sxtb16 r12, r12, ror #8\n\t"
        "smlad r10, lr, r2, r10\n\t"
        "smlabb r10, r12, r5, r10\n\t"
        "smlad r11, r12, r2, r11\n\t"
        "smlatb r11, lr, r5, r11\n\t");
}

/* One output of band_dot_s2 into ACC, from the three rows at x (x0, x1, x2
 * of each: SMLAD(e, (w0, w2)) + x1 * w1), x then moved on by 2 */
#define TE_DW_BAND_S2_OUTPUT(ACC)                    \
    "ldr r12, [r0, r1]\n\t"                          \
    "sxtb16 lr, r12\n\t"                             \
    "sxtb16 r12, r12, ror #8\n\t"                    \
    "smlad " ACC ", lr, r3, r8\n\t"                  \
    "smlabt " ACC ", r12, r5, " ACC "\n\t"           \
    "ldr r12, [r0, r1, lsl #1]\n\t"                  \
    "sxtb16 lr, r12\n\t"                             \
    "sxtb16 r12, r12, ror #8\n\t"                    \
    "smlad " ACC ", lr, r4, " ACC "\n\t"             \
    "smlabb " ACC ", r12, r6, " ACC "\n\t"           \
    "ldr r12, [r0], #2\n\t"                          \
    "sxtb16 lr, r12\n\t"                             \
    "sxtb16 r12, r12, ror #8\n\t"                    \
    "smlad " ACC ", lr, r2, " ACC "\n\t"             \
    "smlabb " ACC ", r12, r5, " ACC "\n\t"

/* band_dot for a stride of 2 along the copy's rows: the two outputs of a
 * step are 2 bytes apart, each from its own 4-byte load of a row (the
 * second half of the load unused): 33 instructions for 18 MACs. */
TE_DW_BAND_SECTION static void band_dot_s2(band_job *job)
{
    TE_DW_BAND_ROWS(TE_DW_BAND_S2_OUTPUT("r10") TE_DW_BAND_S2_OUTPUT("r11"));
}
#undef TE_DW_BAND_S2_OUTPUT
#undef TE_DW_BAND_ROWS

/* Sum X requantized in place (saturated to int8) */
#define TE_DW_BAND_OUTPUT(X)                                                                 \
    TE_DSP_RQ_APPLY_ASM(X, "%[m]", "%[rlo]", "%[rhi]", "%[right]", "%[lo]", "%[hi]")         \
    "ssat " X ", #8, %[hi]\n\t"

/* out = te_dsp_out_s8(te_dsp_rq_apply(sum, rq), 0, -128, 127, 1) for rows x
 * cols sums from acc, the outputs ch apart in a row: the fields in r8-r11
 * by one LDM; two sums per LDRD (an odd row's first alone), their outputs
 * at out and out + ch. The job and the rows left wait on the stack. */
TE_DW_BAND_SECTION static void band_requant(const band_job *job, const int32_t *acc,
                                           int32_t rows)
{
    register const band_job *jp __asm__("r0") = job;
    register const int32_t *a __asm__("r1") = acc;
    register int32_t left __asm__("r2") = rows;
    register int8_t *out __asm__("r3");
    register int32_t ch __asm__("r4");
    register int32_t n __asm__("r5");
    register int32_t x __asm__("r6");
    register int32_t m __asm__("r8");
    register uint32_t round_lo __asm__("r9");
    register int32_t round_hi __asm__("r10");
    register int32_t right __asm__("r11");
    register uint32_t lo __asm__("r12");
    register int32_t hi __asm__("lr");
    __asm__ volatile(
        "add %[x], %[job], #44\n\t"
        "ldm %[x], {r8, r9, r10, r11}\n\t"
        "ldr %[out], [%[job], #60]\n\t"
        "ldr %[ch], [%[job], #64]\n\t"
        "strd %[job], %[rows], [sp, #-8]!\n\t"
        "1:\n\t"
        "ldr %[n], [%[job], #40]\n\t"
        /* an odd count: one output first */
        "lsrs %[n], %[n], #1\n\t"
        "bcc 2f\n\t"
        "ldr %[x], [%[acc]], #4\n\t"
        TE_DW_BAND_OUTPUT("%[x]")
        "strb %[x], [%[out]]\n\t"
        "add %[out], %[out], %[ch]\n\t"
        "cmp %[n], #0\n\t"
        "beq 3f\n\t"
        "2:\n\t"
        "ldrd %[x], %[job], [%[acc]], #8\n\t"
        TE_DW_BAND_OUTPUT("%[x]")
        TE_DW_BAND_OUTPUT("%[job]")
        "strb %[x], [%[out]]\n\t"
        "strb %[job], [%[out], %[ch]]\n\t"
        "add %[out], %[out], %[ch], lsl #1\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 2b\n\t"
        "3:\n\t"
        "ldrd %[job], %[rows], [sp]\n\t"
        "ldr %[x], [%[job], #68]\n\t"
        "add %[out], %[out], %[x]\n\t"
        "subs %[rows], %[rows], #1\n\t"
        "str %[rows], [sp, #4]\n\t"
        "bne 1b\n\t"
        "add sp, sp, #8\n\t"
        : [acc] "+r"(a), [rows] "+r"(left), [out] "=&r"(out), [ch] "=&r"(ch), [n] "=&r"(n),
          [x] "=&r"(x), [lo] "=&r"(lo), [hi] "=&r"(hi), [m] "=&r"(m), [rlo] "=&r"(round_lo),
          [rhi] "=&r"(round_hi), [right] "=&r"(right), [job] "+r"(jp)
        :
        : "cc", "memory");
}
#undef TE_DW_BAND_OUTPUT
#else
/* band_dot and band_dot_s2 in C: each output from one 4-byte load of each
 * row at its window (x0, x1, x2: SMLAD(e, (w0, w2)) + x1 * w1), the windows
 * stride bytes apart */
static void band_dot_c(band_job *job, int32_t stride)
{
    const int32_t w1[3] = {pack16(job->w1_01, 0), job->w1_01 >> 16, pack16(job->w1_2, 0)};
    int32_t row, o, r;
    for (row = 0; row < job->rows; row++) {
        const int8_t *x = job->x + row * job->row_step;
        int32_t *acc = job->acc + row * job->cols;
        for (o = 0; o < job->cols; o++) {
            int32_t a = job->init;
            for (r = 0; r < 3; r++) {
                const int32_t t = te_dsp_ld4(x + o * stride + r * job->pitch);
                a = __smlabb(te_dsp_sxtb16_ror8(t), w1[r], __smlad(__sxtb16(t), job->w02[r], a));
            }
            acc[o] = a;
        }
    }
}

TE_DW_BAND_SECTION static void band_dot(band_job *job)
{
    band_dot_c(job, 1);
}

TE_DW_BAND_SECTION static void band_dot_s2(band_job *job)
{
    band_dot_c(job, 2);
}

TE_DW_BAND_SECTION static void band_requant(const band_job *job, const int32_t *acc,
                                           int32_t rows)
{
    int8_t *out = job->out;
    int32_t r, k;
    for (r = 0; r < rows; r++, out += job->out_skip) {
        for (k = 0; k < job->cols; k++, out += job->ch) {
            *out = te_dsp_out_s8(te_dsp_rq_apply(*acc++, &job->rq), 0, -128, 127, 1);
        }
    }
}
#endif

/* band_dot or band_dot_s2 */
typedef void band_dot_fn(band_job *job);

/* band_requant in C, for a multiplier and shift that band_requant's
 * prepared form does not take. Out of line: band_channel, with band_dot and
 * band_requant, then fits a small instruction cache. */
__attribute__((noinline)) static void band_requant_c(const band_job *job, const int32_t *acc,
                                                    int32_t rows, int32_t mult, int32_t shift,
                                                    const te_conv_params *p)
{
    int8_t *out = job->out;
    int32_t r, k;
    for (r = 0; r < rows; r++, out += job->out_skip) {
        for (k = 0; k < job->cols; k++, out += job->ch) {
            *out = (int8_t)te_clamp_s32(te_add_wrap_s32(te_dsp_mbqm(*acc++, mult, shift),
                                                        p->output_offset),
                                        p->activation_min, p->activation_max);
        }
    }
}

/* One channel c of a band whose copy is at x; job has the band's shape, dot
 * computes its sums. A transposed copy (its rows along the image's columns)
 * takes the weights transposed too: tap (ky, kx) of the copy is the
 * filter's (kx, ky). */
TE_DW_BAND_SECTION static void band_channel(const dw_layer *l, int32_t c, const int8_t *x,
                                            int8_t *out, int32_t *acc, band_job *job,
                                            int transposed, band_dot_fn *dot)
{
    const te_conv_params *p = l->params;
    const int32_t ch = l->channels, q = l->quant->count != 1 ? c : 0;
    const int32_t mult = l->quant->multipliers[q], shift = l->quant->shifts[q];
    const int8_t *w = l->filter + c;
    const int32_t across = transposed ? 3 * ch : ch, down = transposed ? ch : 3 * ch;
    const int32_t w0 = w[0], w1 = w[across], w2 = w[2 * across];
    const int32_t w3 = w[down], w4 = w[down + across], w5 = w[down + 2 * across];
    const int32_t w6 = w[2 * down], w7 = w[2 * down + across], w8 = w[2 * down + 2 * across];
    const int32_t rows = job->rows;
    job->x = x;
    job->w02[0] = pack16(w0, w2);
    job->w02[1] = pack16(w3, w5);
    job->w02[2] = pack16(w6, w8);
    job->w1_01 = pack16(w1, w4);
    job->w1_2 = pack16(w7, (job->cols + 1) / 2 - 1); /* the steps of band_dot, less 1 */
    job->init = te_dsp_wadd(bias_of(l, c), te_dsp_wmul(p->input_offset,
                                                       w0 + w1 + w2 + w3 + w4 + w5 + w6 + w7 + w8));
    job->acc = acc;
    job->out = out;
    dot(job);
    job->rows = rows; /* the asm used it up */
    if (te_dsp_rq_init(&job->rq, mult, shift) && job->rq.right <= TE_DSP_FOLD_MAX_RIGHT) {
        te_dsp_rq_fold(&job->rq, p->output_offset);
        band_requant(job, acc, rows);
        return;
    }
    band_requant_c(job, acc, rows, mult, shift, p);
}

/* The plane path: layers of the band path's shape whose rows are too narrow
 * for it (KWS's are 5 wide), or whose channels do not fit its bands. A block
 * of channels is copied whole, every row of the image with its padding, and
 * computed channel by channel as one band; the copy is transposed (its rows
 * along the image's columns) where band_dot then takes fewer instructions:
 * KWS's 25 x 5 outputs run as 5 rows of 25. Images too big for that go in
 * bands of rows, 4 channels at a time (plan_planes). The output is written
 * channel block by channel block, not pixel by pixel. For a placement the
 * memory planner allows, that is safe when the output does not overlap the
 * input or starts a whole number of pixels before it: a block's writes then
 * land on input bytes of its own channels (all copied already), of earlier
 * channels or images (all read already), or, as in the band path, of rows no
 * later band reads. Other placements take the pixel path
 * (plane_order_is_safe). */
#ifndef TE_DSP_DW_PLANE_BYTES
#define TE_DSP_DW_PLANE_BYTES 2048
#endif
/* Fewer outputs per channel take the pixel path: there the per-channel
 * set-up (weights, requantization, the calls) costs what the plane path
 * saves (VWW's 3 x 3 images run as fast either way, its 6 x 6 ones 28%
 * faster by planes). */
#define TE_DSP_DW_PLANE_MIN_PIXELS 12

/* band_dot's instructions for rows x cols outputs at this stride along the
 * rows: two per step of 24 (33 for band_dot_s2), and about 14 per row */
static int32_t band_dot_cost(int32_t rows, int32_t cols, int32_t stride)
{
    return rows * (14 + (stride == 1 ? 24 : 33) * ((cols + 1) / 2));
}

/* The plane shape for this layer, 0 when it takes the pixel path: the
 * cheaper orientation, and as many channels per copy as fit
 * TE_DSP_DW_PLANE_BYTES with the sums of one channel (a multiple of 4 where
 * that leaves at least 4, for band_fill's 4 x 4 transposes). Where fewer than
 * 4 channels' planes fit (they would be copied byte by byte), 4 channels at a
 * time in bands of as many rows as fit TE_DSP_DW_BAND_BYTES (not
 * transposed): mobilenet_v2's 112 x 112 and 56 x 56 layers of 32 and 144
 * channels, too wide for a band of all channels, and VWW's stride-2 layers. */
__attribute__((noinline)) static int plan_planes(const dw_layer *l, int32_t out_h, int32_t out_w,
                                                 dw_planes *pl)
{
    const int32_t stride_h = l->params->stride_h, stride_w = l->params->stride_w;
    dw_planes whole;
    int32_t room;
    if (!band_shaped(l) || out_h > TE_DSP_DW_PLANE_BYTES || out_w > TE_DSP_DW_PLANE_BYTES ||
        out_h * out_w < TE_DSP_DW_PLANE_MIN_PIXELS) {
        return 0;
    }
    whole.transposed =
        band_dot_cost(out_w, out_h, stride_h) < band_dot_cost(out_h, out_w, stride_w);
    whole.band.rows = whole.transposed ? out_w : out_h;
    whole.cols = whole.transposed ? out_h : out_w;
    /* pitch and plane: both factors <= 4100, no overflow */
    whole.band.pitch = band_pitch(whole.cols, whole.transposed ? stride_h : stride_w);
    whole.band.plane = whole.band.pitch * copy_span(whole.band.rows,
                                                    whole.transposed ? stride_w : stride_h);
    room = TE_DSP_DW_PLANE_BYTES - 4 * (out_h * out_w + 1); /* no overflow: both <= 2048 */
    whole.block = room >= whole.band.plane ? te_min_s32(l->channels, room / whole.band.plane) : 0;
    if (whole.block > 4) {
        whole.block -= whole.block % 4;
    }
    if (whole.block >= te_min_s32(l->channels, 4)) {
        *pl = whole;
        return 1;
    }
    pl->transposed = 0;
    pl->cols = out_w;
    pl->band.pitch = band_pitch(out_w, stride_w);
    pl->block = te_min_s32(l->channels, 4);
    pl->band.rows = te_min_s32(out_h, band_rows(pl->block * pl->band.pitch, out_w, stride_h));
    pl->band.plane = pl->band.pitch * copy_span(pl->band.rows, stride_h);
    if (pl->band.rows >= 1) {
        return 1;
    }
    *pl = whole;
    return whole.block >= 1;
}

/* Whether the plane path's order of writes is safe for this placement of the
 * output (see above). Compared as addresses: the two may be parts of one
 * arena. */
static int plane_order_is_safe(const int8_t *input, int32_t in_bytes, const int8_t *output,
                                int32_t out_bytes, int32_t channels)
{
    const uintptr_t in = (uintptr_t)input, out = (uintptr_t)output;
    if (out + (uintptr_t)out_bytes <= in || in + (uintptr_t)in_bytes <= out) {
        return 1;
    }
    return out <= in && (in - out) % (uintptr_t)channels == 0;
}

/* The depthwise layer by bands of rows and blocks of channels (plan_band,
 * plan_planes). */
__attribute__((noinline)) static void depthwise_planes(const dw_layer *l, const dw_planes *pl,
                                                      int32_t batches, const int8_t *input,
                                                      int32_t out_h, int32_t out_w,
                                                      int8_t *output)
{
    const te_conv_params *p = l->params;
    const int32_t ch = l->channels;
    /* the stride along the copy's rows picks the loop */
    const int32_t row_stride = pl->transposed ? p->stride_h : p->stride_w;
    band_dot_fn *const dot = TE_DW_STRIDE2 && row_stride == 2 ? band_dot_s2 : band_dot;
    int8_t buf[pl->block * pl->band.plane];
    int32_t acc[pl->band.rows * pl->cols + 1];
    band_job job;
    int32_t batch, oy, c0, c;
    job.pitch = pl->band.pitch;
    job.row_step = pl->band.pitch * (pl->transposed ? p->stride_w : p->stride_h);
    job.cols = pl->cols;
    job.ch = pl->transposed ? out_w * ch : ch;
    job.out_skip = pl->transposed ? ch - out_h * out_w * ch : 0;
    for (batch = 0; batch < batches; batch++) {
        const int8_t *in_b = input + batch * l->in_h * l->in_w * ch;
        int8_t *out_b = output + batch * out_h * out_w * ch;
        /* bands of rows (one, the whole image, when transposed) */
        for (oy = 0; oy < (pl->transposed ? 1 : out_h); oy += pl->band.rows) {
            const int32_t rows = pl->transposed ? pl->band.rows
                                                : te_min_s32(pl->band.rows, out_h - oy);
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t in_rows = copy_span(rows, p->stride_h);
            /* the padding: no copy writes there, but a band's rows outside
             * the image may have been inside for the one before */
            if ((batch == 0 && oy == 0) || y0 < 0 || y0 + in_rows > l->in_h) {
                memset(buf, (int8_t)-p->input_offset, sizeof buf);
            }
            for (c0 = 0; c0 < ch; c0 += pl->block) {
                const int32_t n = te_min_s32(pl->block, ch - c0);
                if (pl->transposed) {
                    band_fill(in_b + c0, ch, l->in_w * ch, l->in_w, l->in_h, n, -p->pad_w,
                              -p->pad_h, copy_span(out_w, p->stride_w),
                              copy_span(out_h, p->stride_h), &pl->band, buf);
                } else {
                    band_fill(in_b + c0, l->in_w * ch, ch, l->in_h, l->in_w, n, y0, -p->pad_w,
                              in_rows, copy_span(out_w, p->stride_w), &pl->band, buf);
                }
                job.rows = rows;
                for (c = 0; c < n; c++) {
                    band_channel(l, c0 + c, buf + c * pl->band.plane,
                                 out_b + oy * out_w * ch + c0 + c, acc, &job, pl->transposed,
                                 dot);
                }
            }
        }
        if (!l->full_range) {
            /* band_requant saturated to all of int8 */
            te_dsp_clamp_s8(out_b, out_h * out_w * ch, p->activation_min, p->activation_max);
        }
    }
}

__attribute__((noinline)) static void depthwise(const dw_layer *l, int32_t batches,
                                               const int8_t *input, int32_t out_h,
                                               int32_t out_w, int8_t *output)
{
    const te_conv_params *p = l->params;
    const int fold = p->depth_multiplier == 1 && l->channels <= TE_DSP_DW_MAX_CH;
    const int32_t span_h = (l->k_h - 1) * p->dilation_h, span_w = (l->k_w - 1) * p->dilation_w;
    const int whole_3x3 = fold && p->dilation_w == 1 && l->k_h == 3 && l->k_w == 3;
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

/* Where te_paths.h leaves the pixel path out: the layers the band and plane
 * paths do not take (none, for the model the folder was compiled for) in
 * the reference kernel's loops and order, in little code (cold: built for
 * size). */
__attribute__((cold)) static void depthwise_plain(const dw_layer *l, int32_t batches,
                                                  const int8_t *input, int32_t out_h,
                                                  int32_t out_w, int8_t *output)
{
    const te_conv_params *p = l->params;
    const int32_t dm = p->depth_multiplier;
    int32_t batch, oy, ox, c, m, ky, kx;
    for (batch = 0; batch < batches; batch++) {
        const int8_t *in_b = input + batch * l->in_h * l->in_w * l->channels;
        for (oy = 0; oy < out_h; oy++) {
            for (ox = 0; ox < out_w; ox++) {
                int8_t *out = output + ((batch * out_h + oy) * out_w + ox) * l->out_c;
                for (c = 0; c < l->channels; c++) {
                    for (m = 0; m < dm; m++) {
                        const int32_t oc = c * dm + m, q = l->quant->count == 1 ? 0 : oc;
                        uint32_t acc = (uint32_t)bias_of(l, oc);
                        for (ky = 0; ky < l->k_h; ky++) {
                            const int32_t y = oy * p->stride_h - p->pad_h + ky * p->dilation_h;
                            for (kx = 0; kx < l->k_w; kx++) {
                                const int32_t x = ox * p->stride_w - p->pad_w + kx * p->dilation_w;
                                const int8_t *w = l->filter + (ky * l->k_w + kx) * l->out_c;
                                if (y >= 0 && y < l->in_h && x >= 0 && x < l->in_w) {
                                    const int32_t v = in_b[(y * l->in_w + x) * l->channels + c];
                                    acc += (uint32_t)(w[oc] * (v + p->input_offset));
                                }
                            }
                        }
                        out[oc] = (int8_t)te_clamp_s32(
                            te_add_wrap_s32(te_dsp_mbqm(te_wrap_s32(acc),
                                                        l->quant->multipliers[q],
                                                        l->quant->shifts[q]),
                                            p->output_offset),
                            p->activation_min, p->activation_max);
                    }
                }
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
    dw_planes planes;

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

    layer.params = params;
    layer.quant = quant;
    layer.full_range = params->activation_min == -128 && params->activation_max == 127;
    layer.filter = filter;
    layer.bias = bias;
    layer.in_h = input_dims->h;
    layer.in_w = input_dims->w;
    layer.channels = input_dims->c;
    layer.k_h = filter_dims->h;
    layer.k_w = filter_dims->w;
    layer.out_c = output_dims->c;
    /* bands of every channel keep the planner's order; blocks of channels
     * need plane_order_is_safe */
    if (TE_DW_BANDS &&
        (plan_band(&layer, output_dims->h, output_dims->w, &planes) ||
         (plan_planes(&layer, output_dims->h, output_dims->w, &planes) &&
          plane_order_is_safe(input, input_dims->n * input_dims->h * input_dims->w * input_dims->c,
                              output,
                              output_dims->n * output_dims->h * output_dims->w * output_dims->c,
                              layer.channels)))) {
        depthwise_planes(&layer, &planes, input_dims->n, input, output_dims->h, output_dims->w,
                         output);
        return TE_OK;
    }
    if (!TE_DW_PIXELS) {
        depthwise_plain(&layer, input_dims->n, input, output_dims->h, output_dims->w, output);
    } else {
        /* sized once quant->count is known to be 1 or C_out */
        te_dsp_rq rq[quant->count <= TE_DSP_RQ_MAX_CH ? quant->count : 1];
        const int32_t n_w = filter_dims->h * filter_dims->w * filter_dims->c;
        int8_t w_ram[n_w <= TE_DSP_DW_WEIGHT_COPY ? n_w : 1];
        if (n_w <= TE_DSP_DW_WEIGHT_COPY) {
            /* the pixel path reads every weight at each pixel */
            memcpy(w_ram, filter, (size_t)n_w);
            layer.filter = w_ram;
        }
        layer.rq = rq;
        layer.prepared = te_dsp_rq_table(rq, quant->multipliers, quant->shifts, quant->count);
        depthwise(&layer, input_dims->n, input, output_dims->h, output_dims->w, output);
    }
    return TE_OK;
}
