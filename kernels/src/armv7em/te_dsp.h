/* Helpers shared by the ARMv7E-M DSP kernels (internal header): 4-byte loads
 * at any alignment, SXTB16 of the odd bytes, and wrapping int32 arithmetic
 * (the reference kernels accumulate in uint32, and SMLAD/SMLABB wrap alike). */
#ifndef TINYEDGE_TE_DSP_H
#define TINYEDGE_TE_DSP_H

#include "tinyedge/te_arith.h"
#include "te_paths.h"

#include <arm_acle.h>
#include <stdint.h>
#include <string.h>

#if !defined(__ARM_FEATURE_DSP)
#error "kernels/src/armv7em needs the ARMv7E-M DSP extension (-mcpu=cortex-m4 or cortex-m7)"
#endif

/* Helpers on the hot paths. -Os would call them once per pixel or channel:
 * there they are always inlined (-Os builds then take nearly the
 * instructions of -O2 ones, in less code); other levels decide as usual. */
#if defined(__OPTIMIZE_SIZE__)
#define TE_DSP_INLINE static inline __attribute__((always_inline))
#else
#define TE_DSP_INLINE static inline
#endif

/* Whether the hand-scheduled asm loops are built: they need more registers
 * than GCC gives an asm statement without optimization (-O0 keeps a frame
 * pointer and at most 6 operands fit), so -O0 builds take the equivalent C
 * loops. */
#if defined(__OPTIMIZE__)
#define TE_DSP_ASM 1
#else
#define TE_DSP_ASM 0
#endif

static inline int32_t te_dsp_ld4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v); /* an unaligned LDR */
    return v;
}

static inline void te_dsp_st4(int8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v); /* an unaligned STR */
}

/* bytes 1 and 3 sign-extended to two halfwords (GCC does not fold the rotate) */
static inline int32_t te_dsp_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

/* v in both halfwords (v in [-32768, 32767]), for SADD16 */
static inline int32_t te_dsp_dup16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xffffu) * 0x10001u);
}

static inline int32_t te_dsp_wadd(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t te_dsp_wmul(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a * (uint32_t)b);
}

/* te_mbqm in fewer instructions (USAT for the shift clamps, one SMLAL, an add
 * with carry and a funnel shift for the high multiply): unless a and b are
 * both INT32_MIN (the one case te_srdhm saturates, left to te_mbqm),
 * te_srdhm's sign-dependent nudge followed by a truncating division equals
 * floor((a * b + 2^30) / 2^31), and that quotient fits int32. */
static inline int32_t te_dsp_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int left = (int)__usat(shift, 5);
    const int right = (int)__usat(te_wrap_s32(0u - (uint32_t)shift), 5);
    const int32_t shifted = te_wrap_s32((uint32_t)x << left);
    uint64_t rounded;
    if (multiplier == INT32_MIN) {
        return te_mbqm(x, multiplier, shift);
    }
    rounded = (uint64_t)((int64_t)shifted * multiplier) + ((uint64_t)1 << 30);
    return te_rdbpot(te_wrap_s32((uint32_t)(rounded >> 31)), right);
}

/* te_mbqm(x, multiplier, shift) prepared once per channel for the per-output
 * loops (te_dsp_rq_apply). For multiplier >= 0 and a right shift r in [1, 31]
 * (shift <= -1; shifts below -31 act as -31), te_mbqm's two roundings are one:
 * with h = floor((x * m + 2^30) / 2^31), rounding h / 2^r half away from zero
 * is floor((h + 2^(r-1) - [h < 0]) / 2^r) = floor((x * m + K) / 2^(31+r)) for
 * K = 2^30 + 2^(30+r) - [x < 0] * 2^31 ([x < 0] may stand for [h < 0]: they
 * differ only where h is 0, and there both give 0). That is the high word of
 * the 64-bit x * m + K shifted right by r - 1: SMLAL onto K, then one ASR.
 * A zero multiplier gives 0 for any shift (taken as r = 1). */
typedef struct {
    int32_t multiplier;
    uint32_t round_lo; /* low word of 2^30 + 2^(30+r) */
    int32_t round_hi;  /* its high word plus 1 (the SBC in te_dsp_rq_apply takes it back) */
    int32_t right;     /* r - 1 */
} te_dsp_rq;

/* Fills *rq and returns 1 when te_dsp_rq_apply equals te_mbqm for this
 * multiplier and shift; returns 0 for a negative multiplier (never from
 * TFLite) or a nonzero one with shift >= 0 (a scale of 1/2 or more), which
 * are left to te_dsp_mbqm. */
TE_DSP_INLINE int te_dsp_rq_init(te_dsp_rq *rq, int32_t multiplier, int32_t shift)
{
    int32_t r;
    if (multiplier < 0 || (shift >= 0 && multiplier != 0)) {
        return 0;
    }
    r = multiplier == 0 ? 1 : (shift < -31 ? 31 : -shift);
    rq->multiplier = multiplier;
    rq->round_lo = r == 1 ? 0xC0000000u : 0x40000000u;
    rq->round_hi = (r >= 2 ? (int32_t)1 << (r - 2) : 0) + 1;
    rq->right = r - 1;
    return 1;
}

/* te_dsp_rq_apply's five instructions, for the asm loops: HI = the result
 * for X with the fields M, RLO, RHI and RIGHT (operand strings); LO is
 * scratch. AND, ADDS and SBC build K from X's sign (te_dsp_rq), SMLAL adds
 * X * M, ASR divides. */
#define TE_DSP_RQ_APPLY_ASM(X, M, RLO, RHI, RIGHT, LO, HI)   \
    "and " LO ", " X ", #0x80000000\n\t"                     \
    "adds " LO ", " LO ", " RLO "\n\t"                       \
    "sbc " HI ", " RHI ", " X ", lsr #31\n\t"                \
    "smlal " LO ", " HI ", " X ", " M "\n\t"                 \
    "asr " HI ", " HI ", " RIGHT "\n\t"

/* TE_DSP_RQ_APPLY_ASM, then the output offset OFF added and the result
 * saturated to int8 into X */
#define TE_DSP_RQ_OUTPUT_ASM(X, M, RLO, RHI, RIGHT, LO, HI, OFF) \
    TE_DSP_RQ_APPLY_ASM(X, M, RLO, RHI, RIGHT, LO, HI)          \
    "add " HI ", " HI ", " OFF "\n\t"                           \
    "ssat " X ", #8, " HI "\n\t"

/* te_mbqm(x, multiplier, shift) for an rq that te_dsp_rq_init accepted */
TE_DSP_INLINE int32_t te_dsp_rq_apply(int32_t x, const te_dsp_rq *rq)
{
#if TE_DSP_ASM
    uint32_t lo;
    int32_t hi;
    /* GCC's version of the C below takes eight instructions */
    __asm__(TE_DSP_RQ_APPLY_ASM("%[x]", "%[m]", "%[rlo]", "%[rhi]", "%[right]", "%[lo]", "%[hi]")
            : [lo] "=&r"(lo), [hi] "=&r"(hi)
            : [x] "r"(x), [m] "r"(rq->multiplier), [rlo] "r"(rq->round_lo),
              [rhi] "r"(rq->round_hi), [right] "r"(rq->right)
            : "cc");
    return hi;
#else
    const uint32_t sign = (uint32_t)x & 0x80000000u;
    const uint64_t k = (((uint64_t)(uint32_t)(rq->round_hi - 1) << 32) | rq->round_lo) - sign;
    const uint64_t v = k + (uint64_t)((int64_t)x * rq->multiplier);
    const int32_t hi = te_wrap_s32((uint32_t)(v >> 32));
    return te_asr_s32(hi, rq->right);
#endif
}

/* te_dsp_rq_apply with the output offset off folded into rq's round_hi gives
 * its result plus off: the high word plus off * 2^right, shifted by right, is
 * the shifted high word plus off. |high word| < 2^30 + 2^20 and |off *
 * 2^right| <= 2^28 for right <= TE_DSP_FOLD_MAX_RIGHT, so the sum fits; a
 * kernel checks right before folding. te_dsp_rq_fold(rq, -off) takes it back. */
#define TE_DSP_FOLD_MAX_RIGHT 21
/* A constant as an asm operand's text */
#define TE_DSP_STR_(x) #x
#define TE_DSP_STR(x) TE_DSP_STR_(x)

TE_DSP_INLINE void te_dsp_rq_fold(te_dsp_rq *rq, int32_t off)
{
    rq->round_hi += off * ((int32_t)1 << rq->right);
}

/* Most channels a kernel prepares (16 bytes each, on the stack); past it, and
 * for pairs te_dsp_rq_init declines, the kernels take te_dsp_mbqm. */
#define TE_DSP_RQ_MAX_CH 256

/* rq[i] for the count pairs (multipliers[i], shifts[i]); 1 when every pair
 * has the fast form (te_dsp_rq_init). */
TE_DSP_INLINE int te_dsp_rq_table(te_dsp_rq *rq, const int32_t *multipliers,
                                  const int8_t *shifts, int32_t count)
{
    int32_t i;
    if (count > TE_DSP_RQ_MAX_CH) {
        return 0;
    }
    for (i = 0; i < count; i++) {
        if (!te_dsp_rq_init(&rq[i], multipliers[i], shifts[i])) {
            return 0;
        }
    }
    return 1;
}

/* The int8 output of a requantized value r = te_dsp_rq_apply(...): r plus the
 * output offset (|r| <= 2^30, so the reference's wrapping add cannot wrap),
 * clamped to [lo, hi]; one SSAT when full (the range is [-128, 127], which
 * callers pass as a constant so that each loop is built for one case). */
static inline int8_t te_dsp_out_s8(int32_t r, int32_t offset, int32_t lo, int32_t hi, int full)
{
    return (int8_t)(full ? __ssat(r + offset, 8) : te_clamp_s32(r + offset, lo, hi));
}

/* p[i] = min(max(p[i], lo), hi) for i < n, four bytes at a time (SSUB8 sets
 * a GE flag per byte where the first operand is the larger or equal, SEL
 * takes those bytes from it). The asm loops saturate to [-128, 127] (SSAT);
 * this narrows their outputs to a smaller activation range afterwards, the
 * same as clamping to it at once, as lo >= -128 and hi <= 127. */
static inline void te_dsp_clamp_s8(int8_t *p, int32_t n, int32_t lo, int32_t hi)
{
    const uint32_t lo4 = (uint32_t)(uint8_t)lo * 0x01010101u;
    const uint32_t hi4 = (uint32_t)(uint8_t)hi * 0x01010101u;
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t v = (uint32_t)te_dsp_ld4(p + i), t;
        __asm__("ssub8 %[t], %[v], %[lo]\n\t"
                "sel %[v], %[v], %[lo]\n\t"
                "ssub8 %[t], %[hi], %[v]\n\t"
                "sel %[v], %[v], %[hi]\n\t"
                : [v] "+r"(v), [t] "=&r"(t)
                : [lo] "r"(lo4), [hi] "r"(hi4)
                : "cc");
        te_dsp_st4(p + i, v);
    }
    for (; i < n; i++) {
        p[i] = (int8_t)te_clamp_s32(p[i], lo, hi);
    }
}

/* a[u] += sum over d < 4 * quads of w_u[d] * (in[d] + off), for the rows
 * u = 0..3 that start at w, w + depth, w + 2 * depth, w + 3 * depth (the
 * units of fully connected, the gates' rows of LSTM).
 * One asm loop (4 x 2 SMLAD per input word, 13 registers, so that r7 stays
 * free for a frame pointer; the end of the input waits on the stack): GCC
 * spills the C version, which only -O0 builds take (TE_DSP_ASM). When off2
 * is 0 (an input offset the compiler folded into the bias,
 * tinyedge/passes/fold_input_offset.py), without the two SADD16 and unrolled. */
#if TE_DSP_ASM
/* One input word of te_dsp_dot_4_rows without an offset, widened and
 * multiplied with the next word of each row; the register the offset would
 * take (g) lets two rows' words load back to back, so that the second load
 * pipelines behind the first (one cycle instead of two; 7 cycles of loads per
 * input word, not 10). */
#define TE_DSP_DOT_4_ROWS_PAIRED_STEP                     \
    "ldr %[x], [%[in]], #4\n\t"                          \
    "ldr %[f], [%[w], %[depth]]\n\t"                     \
    "ldr %[g], [%[w]], #4\n\t"                           \
    "sxtb16 %[xo], %[x], ror #8\n\t"                     \
    "sxtb16 %[x], %[x]\n\t"                              \
    "sxtb16 %[fo], %[f], ror #8\n\t"                     \
    "sxtb16 %[f], %[f]\n\t"                              \
    "smlad %[a1], %[x], %[f], %[a1]\n\t"                 \
    "smlad %[a1], %[xo], %[fo], %[a1]\n\t"               \
    "sxtb16 %[fo], %[g], ror #8\n\t"                     \
    "sxtb16 %[g], %[g]\n\t"                              \
    "smlad %[a0], %[x], %[g], %[a0]\n\t"                 \
    "smlad %[a0], %[xo], %[fo], %[a0]\n\t"               \
    "ldr %[f], [%[w2], %[depth]]\n\t"                    \
    "ldr %[g], [%[w2]], #4\n\t"                          \
    "sxtb16 %[fo], %[f], ror #8\n\t"                     \
    "sxtb16 %[f], %[f]\n\t"                              \
    "smlad %[a3], %[x], %[f], %[a3]\n\t"                 \
    "smlad %[a3], %[xo], %[fo], %[a3]\n\t"               \
    "sxtb16 %[fo], %[g], ror #8\n\t"                     \
    "sxtb16 %[g], %[g]\n\t"                              \
    "smlad %[a2], %[x], %[g], %[a2]\n\t"                 \
    "smlad %[a2], %[xo], %[fo], %[a2]\n\t"

/* The operands in fixed registers, r7 left out: left to choose, GCC finds no
 * room for them in some builds that keep a frame pointer in r7 (the
 * hard-float ABI at -Og, or -O3 for the Cortex-M7 and M55). */
#define TE_DSP_DOT_4_ROWS_REGS                                                    \
    register int32_t a0 __asm__("r0") = a[0];                                     \
    register int32_t a1 __asm__("r1") = a[1];                                     \
    register int32_t a2 __asm__("r2") = a[2];                                     \
    register int32_t a3 __asm__("r3") = a[3];                                     \
    register const int8_t *in_r __asm__("r4") = in;                               \
    register const int8_t *w_r __asm__("r5") = w;                                 \
    register const int8_t *w2 __asm__("r6") = w + 2 * depth;                      \
    register int32_t x __asm__("r8");                                             \
    register int32_t xo __asm__("r9");                                            \
    register int32_t f __asm__("r10");                                            \
    register int32_t fo __asm__("r11");                                           \
    register int32_t depth_r __asm__("r12") = depth

#define TE_DSP_DOT_4_ROWS_OUTPUTS                                                 \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),                   \
    [in] "+r"(in_r), [w] "+r"(w_r), [w2] "+r"(w2),                                \
    [x] "=&r"(x), [xo] "=&r"(xo), [f] "=&r"(f), [fo] "=&r"(fo)

/* Any off2, one word per iteration: for the convolution's one-pixel blocks,
 * whose offset is not folded (inlined there, one asm loop fits its registers
 * where two would not). */
static inline void te_dsp_dot_4_rows_offset(const int8_t *in, const int8_t *w, int32_t depth,
                                            int32_t quads, int32_t off2, int32_t *a)
{
    if (quads < 1) {
        return;
    }
    const int8_t *const in_end = in + 4 * quads;
    TE_DSP_DOT_4_ROWS_REGS;
    register int32_t off2_r __asm__("lr") = off2;
    __asm__ volatile(
        "1:\n\t"
        "ldr %[x], [%[in]], #4\n\t"
        "sxtb16 %[xo], %[x], ror #8\n\t"
        "sxtb16 %[x], %[x]\n\t"
        "sadd16 %[xo], %[xo], %[off2]\n\t"
        "sadd16 %[x], %[x], %[off2]\n\t"
        "ldr %[f], [%[w], %[depth]]\n\t"
        "sxtb16 %[fo], %[f], ror #8\n\t"
        "sxtb16 %[f], %[f]\n\t"
        "smlad %[a1], %[x], %[f], %[a1]\n\t"
        "smlad %[a1], %[xo], %[fo], %[a1]\n\t"
        "ldr %[f], [%[w]], #4\n\t"
        "sxtb16 %[fo], %[f], ror #8\n\t"
        "sxtb16 %[f], %[f]\n\t"
        "smlad %[a0], %[x], %[f], %[a0]\n\t"
        "smlad %[a0], %[xo], %[fo], %[a0]\n\t"
        "ldr %[f], [%[w2], %[depth]]\n\t"
        "sxtb16 %[fo], %[f], ror #8\n\t"
        "sxtb16 %[f], %[f]\n\t"
        "smlad %[a3], %[x], %[f], %[a3]\n\t"
        "smlad %[a3], %[xo], %[fo], %[a3]\n\t"
        "ldr %[f], [%[w2]], #4\n\t"
        "sxtb16 %[fo], %[f], ror #8\n\t"
        "sxtb16 %[f], %[f]\n\t"
        "smlad %[a2], %[x], %[f], %[a2]\n\t"
        "smlad %[a2], %[xo], %[fo], %[a2]\n\t"
        "ldr %[f], %[end]\n\t"
        "cmp %[in], %[f]\n\t"
        "bne 1b\n\t"
        : TE_DSP_DOT_4_ROWS_OUTPUTS
        : [depth] "r"(depth_r), [off2] "r"(off2_r), [end] "m"(in_end)
        : "cc", "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

static inline void te_dsp_dot_4_rows(const int8_t *in, const int8_t *w, int32_t depth,
                                     int32_t quads, int32_t off2, int32_t *a)
{
    if (off2 != 0) {
        te_dsp_dot_4_rows_offset(in, w, depth, quads, off2, a);
        return;
    }
    if (quads < 1) {
        return;
    }
    const int8_t *const in_end = in + 4 * quads;
    TE_DSP_DOT_4_ROWS_REGS;
    register int32_t g __asm__("lr");
    /* two words per iteration, an odd count entering at the second (bit 2 of
     * the input's length in bytes) */
    __asm__ volatile(
        "ldr %[f], %[end]\n\t"
        "sub %[x], %[f], %[in]\n\t"
        "lsls %[x], %[x], #29\n\t"
        "bne 2f\n\t"
        "1:\n\t"
        TE_DSP_DOT_4_ROWS_PAIRED_STEP
        "2:\n\t"
        TE_DSP_DOT_4_ROWS_PAIRED_STEP
        "ldr %[f], %[end]\n\t"
        "cmp %[in], %[f]\n\t"
        "bne 1b\n\t"
        : TE_DSP_DOT_4_ROWS_OUTPUTS, [g] "=&r"(g)
        : [depth] "r"(depth_r), [end] "m"(in_end)
        : "cc", "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}
#undef TE_DSP_DOT_4_ROWS_OUTPUTS
#undef TE_DSP_DOT_4_ROWS_REGS
#undef TE_DSP_DOT_4_ROWS_PAIRED_STEP

#else
static inline void te_dsp_dot_4_rows(const int8_t *in, const int8_t *w, int32_t depth,
                                     int32_t quads, int32_t off2, int32_t *a)
{
    int32_t q, u;
    for (q = 0; q < quads; q++) {
        const int32_t x = te_dsp_ld4(in + 4 * q);
        const int32_t xe = __sadd16(__sxtb16(x), off2);
        const int32_t xo = __sadd16(te_dsp_sxtb16_ror8(x), off2);
        for (u = 0; u < 4; u++) {
            const int32_t f = te_dsp_ld4(w + u * depth + 4 * q);
            a[u] = __smlad(xo, te_dsp_sxtb16_ror8(f), __smlad(xe, __sxtb16(f), a[u]));
        }
    }
}

static inline void te_dsp_dot_4_rows_offset(const int8_t *in, const int8_t *w, int32_t depth,
                                            int32_t quads, int32_t off2, int32_t *a)
{
    te_dsp_dot_4_rows(in, w, depth, quads, off2, a);
}
#endif

/* acc + sum over d < n of w[d] * (in[d] + off), for one row. */
static inline int32_t te_dsp_dot_row(const int8_t *in, const int8_t *w, int32_t n,
                                     int32_t off, int32_t acc)
{
    const int32_t off2 = te_dsp_dup16(off);
    int32_t d = 0;
    for (; d + 4 <= n; d += 4) {
        const int32_t x = te_dsp_ld4(in + d), f = te_dsp_ld4(w + d);
        acc = __smlad(__sadd16(__sxtb16(x), off2), __sxtb16(f), acc);
        acc = __smlad(__sadd16(te_dsp_sxtb16_ror8(x), off2), te_dsp_sxtb16_ror8(f), acc);
    }
    for (; d < n; d++) {
        acc = te_dsp_wadd(acc, w[d] * (in[d] + off));
    }
    return acc;
}

/* acc[u] += sum over d < n of w_u[d] * (v[d] + off) for the rows u < 4 of
 * the n-wide matrix w: whole rows (te_dsp_dot_4_rows, then the last n mod 4
 * values) */
static inline void te_dsp_dot_4_full_rows(const int8_t *v, const int8_t *w, int32_t n,
                                          int32_t off, int32_t acc[4])
{
    const int32_t quads = n / 4;
    int32_t u;
    te_dsp_dot_4_rows(v, w, n, quads, te_dsp_dup16(off), acc);
    for (u = 0; u < 4 && n > 4 * quads; u++) {
        acc[u] = te_dsp_dot_row(v + 4 * quads, w + u * n + 4 * quads, n - 4 * quads, off,
                                acc[u]);
    }
}

/* acc[u] += sum over d < depth of w_u[d] * (in[d] + off) for the four rows u
 * of one group of a TE_FC_QUAD_ROWS matrix at w (te_types.h): the whole
 * words, then the depth % 4 bytes of each row after them. With no offset (the
 * compiler folds it into the bias, of fully connected and LSTM layers alike)
 * and w 4-byte aligned, as LDM needs, one asm loop of 19 instructions a word;
 * GCC spills its C version. */
static inline void te_dsp_dot_quad_rows(const int8_t *in, const int8_t *w, int32_t depth,
                                        int32_t off, int32_t *acc)
{
    const int32_t words = depth >> 2, rest = depth & 3;
    const int8_t *const tail = w + 16 * words;
    int32_t u, i;
#if TE_DSP_ASM
    if (off == 0 && ((uintptr_t)w & 3) == 0 && words > 0) {
        const int8_t *const in_end = in + 4 * words;
        /* r7 left out (a frame pointer); f0-f3 ascending, as LDM fills them */
        register int32_t a0 __asm__("r0") = acc[0];
        register int32_t a1 __asm__("r1") = acc[1];
        register int32_t a2 __asm__("r2") = acc[2];
        register int32_t a3 __asm__("r3") = acc[3];
        register const int8_t *in_r __asm__("r4") = in;
        register const int8_t *w_r __asm__("r5") = w;
        register int32_t x __asm__("r6");
        register int32_t xo __asm__("r8");
        register int32_t f0 __asm__("r9");
        register int32_t f1 __asm__("r10");
        register int32_t f2 __asm__("r11");
        register int32_t f3 __asm__("r12");
        register int32_t t __asm__("lr");
#define TE_FC_QUAD_UNIT(F, A)                        \
        "sxtb16 %[t], %[" F "], ror #8\n\t"          \
        "sxtb16 %[" F "], %[" F "]\n\t"              \
        "smlad %[" A "], %[x], %[" F "], %[" A "]\n\t" \
        "smlad %[" A "], %[xo], %[t], %[" A "]\n\t"
#define TE_FC_QUAD_WORD                              \
        "ldr %[x], [%[in]], #4\n\t"                  \
        "ldm %[w]!, {%[f0], %[f1], %[f2], %[f3]}\n\t" \
        "sxtb16 %[xo], %[x], ror #8\n\t"             \
        "sxtb16 %[x], %[x]\n\t"                      \
        TE_FC_QUAD_UNIT("f0", "a0")                  \
        TE_FC_QUAD_UNIT("f1", "a1")                  \
        TE_FC_QUAD_UNIT("f2", "a2")                  \
        TE_FC_QUAD_UNIT("f3", "a3")
        /* two words per iteration, an odd count entering at the second */
        __asm__ volatile(
            "ldr %[t], %[end]\n\t"
            "sub %[x], %[t], %[in]\n\t"
            "lsls %[x], %[x], #29\n\t"
            "bne 2f\n\t"
            "1:\n\t"
            TE_FC_QUAD_WORD
            "2:\n\t"
            TE_FC_QUAD_WORD
            "ldr %[t], %[end]\n\t"
            "cmp %[in], %[t]\n\t"
            "bne 1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
              [in] "+r"(in_r), [w] "+r"(w_r), [x] "=&r"(x), [xo] "=&r"(xo),
              [f0] "=&r"(f0), [f1] "=&r"(f1), [f2] "=&r"(f2), [f3] "=&r"(f3), [t] "=&r"(t)
            : [end] "m"(in_end)
            : "cc", "memory");
#undef TE_FC_QUAD_WORD
#undef TE_FC_QUAD_UNIT
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
        in = in_end;
    } else
#endif
    {
        const int32_t off2 = te_dsp_dup16(off);
        for (i = 0; i < words; i++, in += 4) {
            const int32_t x = te_dsp_ld4(in);
            const int32_t xe = __sadd16(__sxtb16(x), off2);
            const int32_t xo = __sadd16(te_dsp_sxtb16_ror8(x), off2);
            for (u = 0; u < 4; u++) {
                const int32_t f = te_dsp_ld4(w + 16 * i + 4 * u);
                acc[u] = __smlad(xo, te_dsp_sxtb16_ror8(f), __smlad(xe, __sxtb16(f), acc[u]));
            }
        }
    }
    for (u = 0; u < 4 && rest > 0; u++) {
        acc[u] = te_dsp_dot_row(in, tail + u * rest, rest, off, acc[u]);
    }
}

/* Stops GCC from turning a copy or fill loop into a memcpy, memmove or memset
 * call (-ftree-loop-distribute-patterns), which costs more than these short
 * runs or, for overlapping moves, falls back to bytes. */
#define TE_DSP_NOT_A_LIBRARY_CALL() __asm__ volatile("")

/* dst[i] = src[i] for i < n, in increasing order by word moves (unaligned
 * LDR/STR): for the short runs of a window, where a library call would cost
 * more than the copy, and for moves towards lower addresses (dst below an
 * overlapping src: each word is read before any store reaches its bytes). */
TE_DSP_INLINE void te_dsp_copy_forward(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t v = te_dsp_ld4(src + i);
        memcpy(dst + i, &v, sizeof v);
        TE_DSP_NOT_A_LIBRARY_CALL();
    }
    for (; i < n; i++) {
        dst[i] = src[i];
        TE_DSP_NOT_A_LIBRARY_CALL();
    }
}

#endif /* TINYEDGE_TE_DSP_H */
