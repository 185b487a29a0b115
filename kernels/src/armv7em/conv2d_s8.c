/* CONV_2D, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/conv2d_s8.c.
 *
 * Output pixels are taken 4 at a time, in raster order. Their windows are
 * copied into a column block on the stack, the input offset added and each
 * value widened to a halfword (SXTB16, SADD16: in + off is in [-255, 255]);
 * taps in the padding become 0, so borders, strides, dilation and few input
 * channels (a first layer: the window is the dot-product axis) take the same
 * path. A 1x1 stride-1 input is read straight as [pixels, C_in]; windows
 * whose rows are whole groups of 4 are widened row by row from the input,
 * the others gathered first. Each filter then runs over the block: per 4
 * weights one LDR, two SXTB16, two LDM and eight SMLAD (16 MACs), the sums in
 * registers; every step wraps modulo 2^32 as the reference's uint32
 * accumulation does. Each sum is requantized at once: with the per-channel
 * form prepared once per call (te_dsp_rq_apply: SMLAL and ASR, then SSAT when
 * the activation range is all of int8), else with te_dsp_mbqm; both give
 * te_mbqm's result. Where a filter has at most TE_DSP_PAIR_MAX_K weights,
 * two blocks (8 pixels) go together, each filter running over both at once,
 * so that its weights come from the flash accelerator's cache the second
 * time. A last block of one pixel of a pointwise layer runs as a fully
 * connected layer instead (pixel_outputs).
 *
 * Column layout, for dot-product index k = 4g + r and pixel j of a block:
 * word (4g + j) * 2 holds k = 4g (low half) and 4g + 2 (high half), the next
 * word 4g + 1 and 4g + 3: the lanes SXTB16 and SXTB16 ROR #8 give for the
 * weights, so neither side needs repacking. Past k the columns are 0.
 *
 * Order of reads and writes (the memory planner lets an output overlap its
 * input on it, tinyedge/planner/overlap.py): a block's (or pair's) outputs
 * are written only after all its windows have been copied, and its pixels come
 * after every pixel already written, so no write lands on an input byte that
 * is still to be read, as in the reference's raster order.
 *
 * Pointwise layers of at most 16 input channels (every channel's
 * requantization prepared) take conv_narrow instead: each filter's weights in
 * registers, over up to 128 pixels at a time.
 *
 * Filters that tinyedge interleaved in pairs (te_conv_params.filter_layout
 * TE_CONV_FILTER_PAIRS: C_out even, windows of whole groups of 4 up to 288
 * values) take blocks of six pixels, three pixels of two filters at a time
 * (conv_six, filters_paired): each column word feeds two SMLAD.
 *
 * Windows longer than TE_DSP_MAX_K take the same column blocks in chunks,
 * each filter's sums kept between them (conv_long). Grouped convolutions, and
 * long windows of very many filters, take a one-pixel path that reads the
 * input in place (its writes stay within the pixel being computed, which the
 * planner allows as well).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "tinyedge/te_checks.h"

#include "te_dsp.h"

#include <stddef.h>
#include <string.h>

/* conv_six's blocks, for filters in rows or in pairs */
#define TE_CONV_SIX_BLOCKS (TE_CONV_SIX || TE_CONV_PAIRED)

#define TE_DSP_BLOCK 4
/* Longest window (kh * kw * C_in) of the column path: the column buffer
 * takes 8 bytes per window element (4.5 KB at most) on the stack. */
#define TE_DSP_MAX_K 576
/* Longest window whose pixels go eight at a time (conv_columns) */
#define TE_DSP_PAIR_MAX_K 144
/* Channels whose requantization block_outputs prepares at a time for layers of
 * more than TE_DSP_RQ_MAX_CH (16 bytes each, on the stack) */
#define TE_DSP_RQ_CHUNK 64

/* One group of 4 dot-product steps for the 4 pixels of a column block: the
 * weights widened by SXTB16 (lanes 0, 2) and SXTB16 ROR #8 (lanes 1, 3), the
 * columns loaded two pixels per LDM into r8-r11 (ascending, as LDM needs).
 * The fourth sum in S3 (conv_six's group puts it in r7). */
#define TE_DSP_GROUP_S3(S3)                        \
    "ldr %[w0], [%[w]], #4\n\t"                    \
    "sxtb16 %[w1], %[w0], ror #8\n\t"              \
    "sxtb16 %[w0], %[w0]\n\t"                      \
    "ldm %[c]!, {r8, r9, r10, r11}\n\t"            \
    "smlad %[s0], r8, %[w0], %[s0]\n\t"            \
    "smlad %[s0], r9, %[w1], %[s0]\n\t"            \
    "smlad %[s1], r10, %[w0], %[s1]\n\t"           \
    "smlad %[s1], r11, %[w1], %[s1]\n\t"           \
    "ldm %[c]!, {r8, r9, r10, r11}\n\t"            \
    "smlad %[s2], r8, %[w0], %[s2]\n\t"            \
    "smlad %[s2], r9, %[w1], %[s2]\n\t"            \
    "smlad " S3 ", r10, %[w0], " S3 "\n\t"         \
    "smlad " S3 ", r11, %[w1], " S3 "\n\t"
#define TE_DSP_GROUP TE_DSP_GROUP_S3("%[s3]")

/* The dot product of N groups (N: the operand counting them, consumed) with
 * the 4 columns of a block: N mod 4 groups first (bits 0 and 1 of N, which
 * the groups' instructions leave in the flags), then 4 per iteration. Uses
 * the local labels 1-4. */
#define TE_DSP_DOT(N)                                \
    "lsrs " N ", " N ", #1\n\t"                   \
    "bcc 2f\n\t"                                   \
    TE_DSP_GROUP                                     \
    "2:\n\t"                                       \
    "lsrs " N ", " N ", #1\n\t"                   \
    "bcc 4f\n\t"                                   \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    "4:\n\t"                                       \
    "beq 3f\n\t"                                   \
    "1:\n\t"                                       \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    "subs " N ", " N ", #1\n\t"                   \
    "bne 1b\n\t"                                   \
    "3:\n\t"

/* What every column block shares: the filters and the requantization
 * (rq: every channel's prepared form, when `prepared`). */
typedef struct {
    const int8_t *filter;
    const int32_t *bias;
    const int32_t *multipliers;
    const int8_t *shifts;
    te_dsp_rq *rq; /* or, for more channels, room for TE_DSP_RQ_CHUNK (block_outputs) */
    int prepared;
    int full_range;
    int32_t per_channel;
    int32_t k;
    int32_t cout;
    int32_t output_offset;
    int32_t activation_min;
    int32_t activation_max;
    /* the filters past whole_group_filters, copied with 3 bytes after them
     * (read against columns of 0) so that the asm loops can read their last
     * group too; NULL when they take the C loop */
    const int8_t *tail_filters;
} block_job;

static inline int8_t requant(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset,
                             int32_t act_min, int32_t act_max)
{
    return (int8_t)te_clamp_s32(te_add_wrap_s32(te_dsp_mbqm(acc, mult, shift), out_offset),
                                act_min, act_max);
}

static inline int8_t requant_channel(int32_t acc, int32_t oc, const block_job *job)
{
    const int32_t q = job->per_channel ? oc : 0;
    return requant(acc, job->multipliers[q], job->shifts[q], job->output_offset,
                   job->activation_min, job->activation_max);
}

/* Output channel oc of sum: with the prepared form where the call has one for
 * every channel, else as requant_channel */
static inline int8_t requant_output(int32_t sum, int32_t oc, const block_job *job)
{
    return job->prepared
               ? te_dsp_out_s8(te_dsp_rq_apply(sum, &job->rq[job->per_channel ? oc : 0]),
                               job->output_offset, job->activation_min, job->activation_max, 0)
               : requant_channel(sum, oc, job);
}

/* s[j] += the dot products of the n groups of weights at w with the 4
 * columns of a block. Out of line: its callers' code then stays the same
 * whichever of them a build leaves out (te_paths.h). */
__attribute__((noinline)) static void dot_block(const int32_t *c, const int8_t *w, int32_t n,
                                                int32_t s[TE_DSP_BLOCK])
{
    int32_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], w0, w1;
    __asm__ volatile(
        TE_DSP_DOT("%[n]")
        : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3),
          [c] "+r"(c), [w] "+r"(w), [n] "+r"(n), [w0] "=&r"(w0), [w1] "=&r"(w1)
        :
        : "r8", "r9", "r10", "r11", "cc", "memory");
    s[0] = s0; s[1] = s1; s[2] = s2; s[3] = s3;
}

/* s[j] += the last, partial group of rest < 4 weights at w (zero past them)
 * with columns c */
static inline void dot_block_tail(const int32_t *c, const int8_t *w, int32_t rest,
                                  int32_t s[TE_DSP_BLOCK])
{
    uint32_t word = 0;
    int32_t i, lo, hi;
    for (i = 0; i < rest; i++) {
        word |= (uint32_t)(uint8_t)w[i] << (8 * i);
    }
    lo = __sxtb16((int32_t)word);
    hi = te_dsp_sxtb16_ror8((int32_t)word);
    for (i = 0; i < TE_DSP_BLOCK; i++) {
        s[i] = __smlad(c[2 * i], lo, __smlad(c[2 * i + 1], hi, s[i]));
    }
}

#if TE_DSP_ASM
/* The state of filters_full_block's loop, in memory: while the dot product
 * runs, every register but r7 is taken. Offsets are fixed by the asm. */
typedef struct {
    const int32_t *cols;   /* 0: the block's columns */
    const int32_t *bias;   /* 4: the next filter's bias */
    const te_dsp_rq *rq;   /* 8: the next filter's requantization */
    int8_t *out;           /* 12: the next filter's output for pixel 0 */
    int32_t cout;          /* 16: output stride between pixels */
    int32_t groups;        /* 20: groups of 4 weights per filter, >= 1 */
    int32_t w_back;        /* 24: 4 * groups - k, bytes read past a filter */
    int32_t out_offset;    /* 28 */
    int32_t filters;       /* 32: filters left, >= 1 */
    int32_t rq_step;       /* 36: sizeof (te_dsp_rq), or 0 when per tensor */
    const int8_t *w;       /* 40: the next filter's weights */
} filter_loop;
/* the asm's offsets */
typedef char te_filter_loop_layout[offsetof(filter_loop, w) == 40 ? 1 : -1];

/* One output: te_dsp_out_s8(te_dsp_rq_apply(S, rq), offset, -128, 127, 1)
 * into w0, with rq's four fields in r8-r11, the offset in w1 and w as the
 * low word. */
#define TE_DSP_REQUANT(S)                                                \
    TE_DSP_RQ_APPLY_ASM(S, "r8", "r9", "r10", "r11", "%[w]", "%[w0]")    \
    "add %[w0], %[w0], %[w1]\n\t"                                      \
    "ssat %[w0], #8, %[w0]\n\t"

/* The dot product of N groups, N a multiple of 4 (consumed): TE_DSP_DOT
 * without its first steps, for filters_pair_block, whose two dot products
 * must fit the 1 KB instruction cache of a flash accelerator together. */
#define TE_DSP_DOT4(N)                               \
    "1:\n\t"                                         \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    TE_DSP_GROUP                                     \
    "subs " N ", " N ", #4\n\t"                   \
    "bne 1b\n\t"

/* The four outputs of a block from the sums s0-s3, stored at out, out + cout,
 * out + 2 cout and out + 3 cout, out = f->out after OUT_STEP's change to c;
 * the filter's requantization into r8-r11 (its pointer not advanced). */
#define TE_DSP_STORE_BLOCK(OUT_STEP)                   \
    "ldr %[c], [%[f], #8]\n\t"                       \
    "ldm %[c], {r8, r9, r10, r11}\n\t"               \
    "ldr %[w1], [%[f], #28]\n\t"                     \
    "ldr %[c], [%[f], #12]\n\t"                      \
    OUT_STEP                                         \
    TE_DSP_REQUANT("%[s0]")                          \
    "strb %[w0], [%[c]]\n\t"                         \
    "ldr %[s0], [%[f], #16]\n\t"                     \
    TE_DSP_REQUANT("%[s1]")                          \
    "strb %[w0], [%[c], %[s0]]\n\t"                  \
    TE_DSP_REQUANT("%[s2]")                          \
    "strb %[w0], [%[c], %[s0], lsl #1]\n\t"          \
    "add %[s1], %[s0], %[s0], lsl #1\n\t"            \
    TE_DSP_REQUANT("%[s3]")                          \
    "strb %[w0], [%[c], %[s1]]\n\t"

/* The sums s0-s3 of the filter at f->w with the columns at COLS, from the
 * bias LOAD_BIAS puts in s0, by DOT; f waits in the stack slot the loop
 * made, while its register counts the groups. */
#define TE_DSP_FILTER_DOT(COLS, LOAD_BIAS, DOT)        \
    "ldr %[w], [%[f], #40]\n\t"                      \
    "ldr %[c], " COLS "\n\t"                         \
    LOAD_BIAS                                        \
    "mov %[s1], %[s0]\n\t"                           \
    "mov %[s2], %[s0]\n\t"                           \
    "mov %[s3], %[s0]\n\t"                           \
    "str %[f], [sp]\n\t"                             \
    "ldr %[f], [%[f], #20]\n\t"                      \
    DOT("%[f]")                                      \
    "ldr %[f], [sp]\n\t"

/* The next filter's bias, read from f->bias, which moves on */
#define TE_DSP_NEXT_BIAS                               \
    "ldr %[w0], [%[f], #4]\n\t"                      \
    "ldr %[s0], [%[w0]], #4\n\t"                     \
    "str %[w0], [%[f], #4]\n\t"

/* After a filter's last dot product: w past its last group, less w_back */
#define TE_DSP_NEXT_WEIGHTS                            \
    "ldr %[w0], [%[f], #24]\n\t"                     \
    "subs %[w], %[w], %[w0]\n\t"                     \
    "str %[w], [%[f], #40]\n\t"

/* rq and out moved on, the count of filters down by one (flags for the
 * loop) */
#define TE_DSP_NEXT_FILTER                             \
    "ldr %[c], [%[f], #8]\n\t"                       \
    "ldr %[w0], [%[f], #36]\n\t"                     \
    "add %[c], %[c], %[w0]\n\t"                      \
    "str %[c], [%[f], #8]\n\t"                       \
    "ldr %[c], [%[f], #12]\n\t"                      \
    "adds %[c], %[c], #1\n\t"                        \
    "str %[c], [%[f], #12]\n\t"                      \
    "ldr %[w0], [%[f], #32]\n\t"                     \
    "subs %[w0], %[w0], #1\n\t"                      \
    "str %[w0], [%[f], #32]\n\t"

#define TE_DSP_FILTER_REGS                                                         \
    register filter_loop *fp __asm__("r0") = f;                                    \
    register const int8_t *w __asm__("r1");                                        \
    register const int32_t *c __asm__("r2");                                       \
    register int32_t w0 __asm__("r3");                                             \
    register int32_t s0 __asm__("r4");                                             \
    register int32_t s1 __asm__("r5");                                             \
    register int32_t s2 __asm__("r6");                                             \
    register int32_t s3 __asm__("r12");                                            \
    register int32_t w1 __asm__("lr")

#define TE_DSP_FILTER_OPERANDS                                                     \
    : [f] "+r"(fp), [w] "=&r"(w), [c] "=&r"(c), [s0] "=&r"(s0), [s1] "=&r"(s1),   \
      [s2] "=&r"(s2), [s3] "=&r"(s3), [w0] "=&r"(w0), [w1] "=&r"(w1)               \
    :                                                                              \
    : "r8", "r9", "r10", "r11", "cc", "memory"

/* block_outputs' common case in one asm loop (GCC spills much of the loop
 * state around the dot product): a full block of 4 pixels, a bias, every
 * channel prepared and the activation range all of int8. For each of
 * f->filters filters from f->w: the dot product of dot_block, the four sums
 * requantized and stored. The filters' rows are read as whole groups, so
 * the caller leaves to the C loop those whose last group would pass the end
 * of the weights. r7 stays free (a frame pointer, under
 * -fno-omit-frame-pointer): during the dot product f waits on the stack and
 * its register counts the groups. */
__attribute__((noinline)) static void filters_full_block(filter_loop *f)
{
    TE_DSP_FILTER_REGS;
    __asm__ volatile(
        "sub sp, sp, #8\n\t"
        "5:\n\t"
        TE_DSP_FILTER_DOT("[%[f], #0]", TE_DSP_NEXT_BIAS, TE_DSP_DOT)
        TE_DSP_NEXT_WEIGHTS
        TE_DSP_STORE_BLOCK("")
        TE_DSP_NEXT_FILTER
        "bne 5b\n\t"
        "add sp, sp, #8\n\t"
        TE_DSP_FILTER_OPERANDS);
}

/* The same for two full blocks (8 pixels), the second block's columns right
 * after the first's and its outputs 4 * cout further, f->groups a multiple
 * of 4: each filter's weights are read twice in a row, the second time from
 * the data cache of a flash accelerator (conv_columns). */
__attribute__((noinline)) static void filters_pair_block(filter_loop *f)
{
    TE_DSP_FILTER_REGS;
    __asm__ volatile(
        "sub sp, sp, #8\n\t"
        "5:\n\t"
        TE_DSP_FILTER_DOT("[%[f], #0]", TE_DSP_NEXT_BIAS, TE_DSP_DOT4)
        /* the dot product leaves c on the second block's columns */
        "str %[c], [sp, #4]\n\t"
        TE_DSP_STORE_BLOCK("")
        TE_DSP_FILTER_DOT("[sp, #4]", "ldr %[w0], [%[f], #4]\n\tldr %[s0], [%[w0], #-4]\n\t",
                          TE_DSP_DOT4)
        TE_DSP_NEXT_WEIGHTS
        TE_DSP_STORE_BLOCK("ldr %[w0], [%[f], #16]\n\tadd %[c], %[c], %[w0], lsl #2\n\t")
        TE_DSP_NEXT_FILTER
        "bne 5b\n\t"
        "add sp, sp, #8\n\t"
        TE_DSP_FILTER_OPERANDS);
}

#undef TE_DSP_FILTER_OPERANDS
#undef TE_DSP_FILTER_REGS
#undef TE_DSP_NEXT_FILTER
#undef TE_DSP_NEXT_WEIGHTS
#undef TE_DSP_NEXT_BIAS
#undef TE_DSP_FILTER_DOT
#undef TE_DSP_STORE_BLOCK
#undef TE_DSP_DOT4
#undef TE_DSP_REQUANT
#endif

/* out[j * cout] = requant(s[j]) for the first count (<= 4) pixels j; out of
 * line, for te_dsp_mbqm's one slow case (mult == INT32_MIN), which would
 * otherwise crowd the common code */
__attribute__((noinline)) static void requant_block_slow(const int32_t s[TE_DSP_BLOCK],
                                                         int32_t count, int32_t mult,
                                                         int32_t shift, const block_job *job,
                                                         int8_t *out)
{
    int32_t j;
    for (j = 0; j < count; j++) {
        out[j * job->cout] = requant(s[j], mult, shift, job->output_offset,
                                     job->activation_min, job->activation_max);
    }
}

/* How many of the cout filters (of k weights each) come first whose rows can
 * be read as whole groups of 4: a partial last group reads the next filter's
 * first bytes (their columns are 0), except in the last filters, where that
 * would pass the end of the weights. */
TE_DSP_INLINE int32_t whole_group_filters(int32_t k, int32_t cout)
{
    const int32_t rest = k & 3;
    return rest == 0 ? cout : te_max_s32(0, cout - (4 - rest + k - 1) / k);
}

/* Output channels from .. cout - 1 of the first `count` pixels of a column
 * block, in C: out[j * cout + oc]. */
static void filters_c(const block_job *job, const int32_t *cols, int8_t *out, int32_t count,
                      int32_t from)
{
    const int32_t k = job->k, cout = job->cout, quads = k >> 2, rest = k & 3;
    const int32_t out_offset = job->output_offset;
    const int32_t act_min = job->activation_min, act_max = job->activation_max;
    const int32_t q_step = job->per_channel ? 1 : 0;
    const int32_t tail_in_c = whole_group_filters(k, cout);
    int32_t oc;
    for (oc = from; oc < cout; oc++) {
        const int32_t q = q_step * oc;
        const int32_t init = job->bias != NULL ? job->bias[oc] : 0;
        const int c_tail = oc >= tail_in_c;
        const int32_t n = c_tail ? quads : (k + 3) >> 2;
        const int8_t *row = job->filter + oc * k;
        int8_t *o = out + oc;
        int32_t s[TE_DSP_BLOCK] = {init, init, init, init};
        int32_t mult, shift, j;
        dot_block(cols, row, n, s);
        if (c_tail) {
            dot_block_tail(cols + n * 2 * TE_DSP_BLOCK, row + 4 * n, rest, s);
        }
        if (job->prepared) {
            /* a copy in registers: the int8_t stores could alias the table */
            const te_dsp_rq r = job->rq[q];
            if (count == TE_DSP_BLOCK && job->full_range) {
                /* unrolled: the four sums stay in registers */
                o[0] = te_dsp_out_s8(te_dsp_rq_apply(s[0], &r), out_offset, -128, 127, 1);
                o[cout] = te_dsp_out_s8(te_dsp_rq_apply(s[1], &r), out_offset, -128, 127, 1);
                o[2 * cout] = te_dsp_out_s8(te_dsp_rq_apply(s[2], &r), out_offset, -128, 127, 1);
                o[3 * cout] = te_dsp_out_s8(te_dsp_rq_apply(s[3], &r), out_offset, -128, 127, 1);
            } else {
                for (j = 0; j < count; j++) {
                    o[j * cout] = te_dsp_out_s8(te_dsp_rq_apply(s[j], &r), out_offset,
                                                act_min, act_max, 0);
                }
            }
            continue;
        }
        /* the requantization is read before the stores, which could alias it */
        mult = job->multipliers[q];
        shift = job->shifts[q];
        if (mult == INT32_MIN) {
            requant_block_slow(s, count, mult, shift, job, o);
            continue;
        }
        for (j = 0; j < count; j++) {
            o[j * cout] = requant(s[j], mult, shift, out_offset, act_min, act_max);
        }
    }
}

#if TE_DSP_ASM
/* f's filters over one block, or over two (filters_pair_block) */
static void filters_asm(filter_loop *f, int32_t blocks)
{
    if (blocks == 2) {
        filters_pair_block(f);
    } else {
        filters_full_block(f);
    }
}
#endif

/* Every output channel of the first `count` pixels of a column block, or,
 * for blocks == 2, of two full blocks (8 pixels, the second block's columns
 * right after the first's, (k + 3) / 4 a multiple of 4): out[j * cout + oc].
 * The asm loop takes the filters it can, the C loop the rest. Not inlined:
 * the callers keep stack arrays (a frame pointer, r7) and the dot product
 * needs 13 registers. */
__attribute__((noinline)) static void block_outputs(const block_job *job, const int32_t *cols,
                                                    int8_t *out, int32_t count, int32_t blocks)
{
    const int32_t k = job->k, cout = job->cout;
    int32_t done = 0, b;
#if TE_DSP_ASM
    const int32_t whole = whole_group_filters(k, cout);
    /* more channels than the call's table holds: prepared here, a chunk at a
     * time (about 10 instructions a channel, against hundreds for its dot
     * products) */
    const int chunked = !job->prepared && job->per_channel && cout > TE_DSP_RQ_MAX_CH;
    if ((job->prepared || chunked) && job->bias != NULL && count == TE_DSP_BLOCK && whole > 0) {
        filter_loop f;
        f.cols = cols;
        f.bias = job->bias;
        f.out = out;
        f.cout = cout;
        f.groups = (k + 3) >> 2;
        f.w_back = 4 * f.groups - k;
        f.out_offset = job->output_offset;
        f.w = job->filter;
        if (job->prepared) {
            f.rq = job->rq;
            f.filters = whole;
            f.rq_step = (job->per_channel ? 1 : 0) * (int32_t)sizeof(te_dsp_rq);
            filters_asm(&f, blocks);
            done = whole;
            if (job->tail_filters != NULL && whole < cout) {
                /* f has moved on to filter `whole` but for the weights */
                f.filters = cout - whole;
                f.w = job->tail_filters;
                filters_asm(&f, blocks);
                done = cout;
            }
        }
        while (chunked && done < whole) {
            /* f has moved on to filter `done` */
            const int32_t n = te_min_s32(TE_DSP_RQ_CHUNK, whole - done);
            if (!te_dsp_rq_table(job->rq, job->multipliers + done, job->shifts + done, n)) {
                break; /* a channel te_dsp_rq_init declines: the C loop from here */
            }
            f.rq = job->rq;
            f.filters = n;
            f.rq_step = (int32_t)sizeof(te_dsp_rq);
            filters_asm(&f, blocks);
            done += n;
        }
        if (!job->full_range) {
            /* the asm saturated to all of int8 */
            for (b = 0; b < blocks * TE_DSP_BLOCK; b++) {
                te_dsp_clamp_s8(out + b * cout, done, job->activation_min, job->activation_max);
            }
        }
    }
#endif
    for (b = 0; b < blocks; b++) {
        filters_c(job, cols + b * 2 * TE_DSP_BLOCK * ((k + 3) >> 2),
                  out + b * TE_DSP_BLOCK * cout, count, done);
    }
}

/* Widens n >= 1 whole groups of 4 values at src into one column slot from
 * d on (2 words per group, groups 2 * TE_DSP_BLOCK words apart), the input
 * offset added (off2: in both halfwords); widen_run writes the groups one
 * after the other. */
#if TE_DSP_ASM
/* One group: A and E scratch */
#define TE_DSP_WIDEN_GROUP(A, E)                                             \
        "sxtb16 %[" E "], %[" A "]\n\t"                                      \
        "sxtb16 %[" A "], %[" A "], ror #8\n\t"                              \
        "sadd16 %[" E "], %[" E "], %[off2]\n\t"                             \
        "sadd16 %[" A "], %[" A "], %[off2]\n\t"
/* Two groups per iteration, their loads back to back (the second pipelines
 * behind the first); an odd n takes one group first (carry of the LSRS,
 * whose zero flag then ends an n of 1). */
#define TE_DSP_WIDEN_LOOP(STEP)                                              \
    int32_t a, e, b, f;                                                      \
    __asm__ volatile(                                                        \
        "lsrs %[n], %[n], #1\n\t"                                            \
        "bcc 2f\n\t"                                                         \
        "ldr %[a], [%[src]], #4\n\t"                                         \
        TE_DSP_WIDEN_GROUP("a", "e")                                         \
        "strd %[e], %[a], [%[d]], #" STEP "\n\t"                             \
        "2:\n\t"                                                             \
        "beq 3f\n\t"                                                         \
        "1:\n\t"                                                             \
        "ldr %[a], [%[src]], #4\n\t"                                         \
        "ldr %[b], [%[src]], #4\n\t"                                         \
        TE_DSP_WIDEN_GROUP("a", "e")                                         \
        TE_DSP_WIDEN_GROUP("b", "f")                                         \
        "strd %[e], %[a], [%[d]], #" STEP "\n\t"                             \
        "strd %[f], %[b], [%[d]], #" STEP "\n\t"                             \
        "subs %[n], %[n], #1\n\t"                                            \
        "bne 1b\n\t"                                                         \
        "3:\n\t"                                                             \
        : [d] "+r"(d), [src] "+r"(src), [n] "+r"(n), [a] "=&r"(a), [e] "=&r"(e), \
          [b] "=&r"(b), [f] "=&r"(f)                                         \
        : [off2] "r"(off2)                                                   \
        : "cc", "memory")

TE_DSP_INLINE void widen_groups(int32_t *d, const int8_t *src, int32_t n, int32_t off2)
{
    TE_DSP_WIDEN_LOOP("32");
}

static inline void widen_run(int32_t *d, const int8_t *src, int32_t n, int32_t off2)
{
    TE_DSP_WIDEN_LOOP("8");
}

#if TE_CONV_SIX_BLOCKS
/* widen_groups for a block of six pixels (conv_six): groups 12 words apart */
static void widen_six(int32_t *d, const int8_t *src, int32_t n, int32_t off2)
{
    TE_DSP_WIDEN_LOOP("48");
}
#endif
#undef TE_DSP_WIDEN_LOOP
#undef TE_DSP_WIDEN_GROUP
#else
static void widen_step(int32_t *d, const int8_t *src, int32_t n, int32_t off2, int32_t step)
{
    int32_t g;
    for (g = 0; g < n; g++, d += step) {
        const int32_t a = te_dsp_ld4(src + 4 * g);
        d[0] = __sadd16(__sxtb16(a), off2);
        d[1] = __sadd16(te_dsp_sxtb16_ror8(a), off2);
    }
}

TE_DSP_INLINE void widen_groups(int32_t *d, const int8_t *src, int32_t n, int32_t off2)
{
    widen_step(d, src, n, off2, 2 * TE_DSP_BLOCK);
}

static inline void widen_run(int32_t *d, const int8_t *src, int32_t n, int32_t off2)
{
    widen_step(d, src, n, off2, 2);
}

#if TE_CONV_SIX_BLOCKS
static void widen_six(int32_t *d, const int8_t *src, int32_t n, int32_t off2)
{
    widen_step(d, src, n, off2, 12);
}
#endif
#endif

/* The "d += 32" of widen_groups' STRD */
typedef char te_widen_step[2 * TE_DSP_BLOCK * sizeof(int32_t) == 32 ? 1 : -1];

/* Column slot `slot` of a block from the k window values at src: each group
 * of 4 widened, the input offset added (off2: the offset in both halfwords);
 * values past k are `pad` (-offset), which adds to 0. */
static void widen(int32_t *cols, int32_t slot, const int8_t *src, int32_t k, int32_t off2,
                  int8_t pad)
{
    int32_t *d = cols + 2 * slot;
    const int32_t whole = k >> 2;
    if (whole > 0) {
        widen_groups(d, src, whole, off2);
    }
    if (k & 3) {
        uint32_t word = 0;
        int32_t r, a;
        for (r = 0; r < 4; r++) {
            word |= (uint32_t)(uint8_t)(4 * whole + r < k ? src[4 * whole + r] : pad) << (8 * r);
        }
        a = (int32_t)word;
        d += whole * 2 * TE_DSP_BLOCK;
        d[0] = __sadd16(__sxtb16(a), off2);
        d[1] = __sadd16(te_dsp_sxtb16_ror8(a), off2);
    }
}

TE_DSP_INLINE void fill_run(int8_t *dst, int8_t value, int32_t n)
{
    const int32_t v = (int32_t)((uint32_t)(uint8_t)value * 0x01010101u);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        memcpy(dst + i, &v, sizeof v);
        TE_DSP_NOT_A_LIBRARY_CALL();
    }
    for (; i < n; i++) {
        dst[i] = value;
        TE_DSP_NOT_A_LIBRARY_CALL();
    }
}

/* First tap index inside [0, size) and one past the last, for a window at
 * origin with the given taps and dilation (an empty range if none). */
TE_DSP_INLINE void valid_taps(int32_t origin, int32_t taps, int32_t dilation, int32_t size,
                              int32_t *first, int32_t *end)
{
    if (origin >= 0 && origin + (taps - 1) * dilation < size) {
        /* every tap inside (most windows): without the divisions, 2-12 cycles each */
        *first = 0;
        *end = taps;
        return;
    }
    *first = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
    *end = te_min_s32(taps, origin <= size - 1 ? (size - 1 - origin) / dilation + 1 : 0);
    if (*end < *first) {
        *end = *first;
    }
}

typedef struct {
    const te_conv_params *params;
    const te_dims *in;
    const te_dims *filter;
    const te_dims *out;
} conv_shape;

/* The window of output pixel (batch, oy, ox): a pointer to it when it is one
 * contiguous run of the input, else a copy in `window` with padding taps set
 * to pad. Out of line: inlined, its copy loops spill registers in
 * conv_columns' loop by chance of the kernel's other paths. */
__attribute__((noinline)) static const int8_t *window_of(const conv_shape *sh,
                                                         const int8_t *input, int32_t batch,
                                                         int32_t oy, int32_t ox, int8_t pad,
                                                         int8_t *window)
{
    const te_conv_params *p = sh->params;
    const int32_t ih = sh->in->h, iw = sh->in->w, c = sh->in->c;
    const int32_t kh = sh->filter->h, kw = sh->filter->w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t *in_b = input + batch * ih * iw * c;
    int32_t ky0, ky1, kx0, kx1, ky, kx;
    valid_taps(y0, kh, p->dilation_h, ih, &ky0, &ky1);
    valid_taps(x0, kw, p->dilation_w, iw, &kx0, &kx1);
    if (kh == 1 && ky0 == 0 && ky1 == 1 && kx0 == 0 && kx1 == kw &&
        (kw == 1 || p->dilation_w == 1)) {
        return in_b + (y0 * iw + x0) * c;
    }
    if (ky0 > 0 || ky1 < kh || kx0 > 0 || kx1 < kw) {
        fill_run(window, pad, kh * kw * c);
    }
    for (ky = ky0; ky < ky1; ky++) {
        const int8_t *row = in_b + (y0 + ky * p->dilation_h) * iw * c;
        int8_t *dst = window + ky * kw * c;
        if (p->dilation_w == 1) {
            te_dsp_copy_forward(dst + kx0 * c, row + (x0 + kx0) * c, (kx1 - kx0) * c);
        } else {
            for (kx = kx0; kx < kx1; kx++) {
                te_dsp_copy_forward(dst + kx * c, row + (x0 + kx * p->dilation_w) * c, c);
            }
        }
    }
    return window;
}

/* Column slot `slot` of a block from the window of output pixel (batch, oy,
 * ox), one kernel row at a time, for a row length kw * C_in that is a
 * multiple of 4 (every row starts a group): whole rows are widened straight
 * from the input, rows in the padding are zero groups, and rows cut by the
 * border or dilated are gathered into `row` first. */
static void widen_rows(const conv_shape *sh, const int8_t *input, int32_t batch, int32_t oy,
                       int32_t ox, int32_t *cols, int32_t slot, int32_t off2, int8_t pad,
                       int8_t *row)
{
    const te_conv_params *p = sh->params;
    const int32_t ih = sh->in->h, iw = sh->in->w, c = sh->in->c;
    const int32_t kh = sh->filter->h, kw = sh->filter->w, run = kw * c;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t *in_b = input + batch * ih * iw * c;
    int32_t ky0, ky1, kx0, kx1, ky, kx;
    valid_taps(y0, kh, p->dilation_h, ih, &ky0, &ky1);
    valid_taps(x0, kw, p->dilation_w, iw, &kx0, &kx1);
    if (ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw && (kw == 1 || p->dilation_w == 1)) {
        /* inside the image: every row a whole run of the input */
        const int32_t groups = run / 4;
        const int8_t *src = in_b + (y0 * iw + x0) * c;
        int32_t *d = cols + 2 * slot;
        for (ky = 0; ky < kh; ky++) {
            widen_groups(d, src, groups, off2);
            src += p->dilation_h * iw * c;
            d += groups * 2 * TE_DSP_BLOCK;
        }
        return;
    }
    for (ky = 0; ky < kh; ky++) {
        int32_t *d = cols + 2 * slot + ky * (run / 4) * 2 * TE_DSP_BLOCK;
        const int8_t *src;
        if (ky < ky0 || ky >= ky1 || kx0 >= kx1) {
            int32_t g;
            for (g = 0; g < run / 4; g++, d += 2 * TE_DSP_BLOCK) {
                d[0] = 0;
                d[1] = 0;
            }
            continue;
        }
        /* the input row of the window's tap kx0 */
        src = in_b + ((y0 + ky * p->dilation_h) * iw + x0 + kx0 * p->dilation_w) * c;
        if (kx0 > 0 || kx1 < kw || (kw > 1 && p->dilation_w != 1)) {
            fill_run(row, pad, run);
            for (kx = kx0; kx < kx1; kx++) {
                te_dsp_copy_forward(row + kx * c, src + (kx - kx0) * p->dilation_w * c, c);
            }
            src = row;
        }
        widen(d, 0, src, run, off2, pad);
    }
}

/* 1x1 windows at stride 1 without padding over an output of the input's
 * size: pixel p's window is input[p * C_in .. (p + 1) * C_in) */
static inline int is_pointwise(const conv_shape *sh)
{
    const te_conv_params *p = sh->params;
    return sh->filter->h == 1 && sh->filter->w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
           p->pad_h == 0 && p->pad_w == 0 && sh->out->h == sh->in->h && sh->out->w == sh->in->w;
}

/* Whether the window of output pixel (oy, ox) lies inside the image with
 * each of its rows one contiguous run of the input (kw == 1 or dilation_w 1). */
TE_DSP_INLINE int inside_rows(const conv_shape *sh, int32_t oy, int32_t ox)
{
    const te_conv_params *p = sh->params;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    return (sh->filter->w == 1 || p->dilation_w == 1) && y0 >= 0 && x0 >= 0 &&
           y0 + (sh->filter->h - 1) * p->dilation_h < sh->in->h &&
           x0 + (sh->filter->w - 1) * p->dilation_w < sh->in->w;
}

/* The columns of a block of count (<= 4) consecutive output pixels of one
 * row whose windows lie inside the image with contiguous rows, the first
 * window's corner at in: each window's rows copied whole into window (k4
 * bytes, pad past k), then widened as groups. A short block repeats its last
 * pixel. */
__attribute__((noinline)) static void window_rows_block(const conv_shape *sh, const int8_t *in,
                                                       int32_t count, int32_t off2, int32_t k4,
                                                       int8_t *window, int32_t *cols)
{
    const te_conv_params *p = sh->params;
    const int32_t run = sh->filter->w * sh->in->c, kh = sh->filter->h;
    const int32_t row_step = p->dilation_h * sh->in->w * sh->in->c;
    const int32_t pixel_step = p->stride_w * sh->in->c;
    int32_t j, ky;
    for (j = 0; j < TE_DSP_BLOCK; j++) {
        const int8_t *row = in + te_min_s32(j, count - 1) * pixel_step;
        for (ky = 0; ky < kh; ky++, row += row_step) {
            te_dsp_copy_forward(window + ky * run, row, run);
        }
        widen_groups(cols + 2 * j, window, k4 / 4, off2);
    }
}

#if TE_CONV_ROW_BLOCKS
/* The same for rows of whole groups (kw * C_in a multiple of 4): each window
 * row widened straight from the input, as widen_rows does for one pixel
 * inside the image, without its per-pixel bounds. */
__attribute__((noinline)) static void widen_rows_block(const conv_shape *sh, const int8_t *in,
                                                      int32_t count, int32_t off2,
                                                      int32_t *cols)
{
    const te_conv_params *p = sh->params;
    const int32_t groups = sh->filter->w * sh->in->c / 4, kh = sh->filter->h;
    const int32_t row_step = p->dilation_h * sh->in->w * sh->in->c;
    const int32_t pixel_step = p->stride_w * sh->in->c;
    int32_t j, ky;
    for (j = 0; j < TE_DSP_BLOCK; j++) {
        const int8_t *row = in + te_min_s32(j, count - 1) * pixel_step;
        int32_t *d = cols + 2 * j;
        for (ky = 0; ky < kh; ky++, row += row_step, d += groups * 2 * TE_DSP_BLOCK) {
            widen_groups(d, row, groups, off2);
        }
    }
}
#endif

/* The output pixel after (batch, oy, ox) in raster order */
static inline void next_pixel(int32_t *batch, int32_t *oy, int32_t *ox, int32_t oh, int32_t ow)
{
    if (++*ox == ow) {
        *ox = 0;
        if (++*oy == oh) {
            *oy = 0;
            ++*batch;
        }
    }
}

/* s[u] += sum over i < n of (in[i] + off) * w[u * stride + i] for the 4
 * filters u < 4, stride bytes apart: te_dsp_dot_4_rows_offset, then the
 * last n mod 4 values. Out of line: inlined into the pixel loops, the asm
 * would not get the 13 registers it takes. */
__attribute__((noinline)) static void dot_1x4(const int8_t *in, const int8_t *w, int32_t stride,
                                              int32_t n, int32_t off, int32_t s[4])
{
    const int32_t whole = n & ~3;
    int32_t u;
    te_dsp_dot_4_rows_offset(in, w, stride, n / 4, te_dsp_dup16(off), s);
    for (u = 0; u < 4 && whole < n; u++) {
        s[u] = te_dsp_dot_row(in + whole, w + u * stride + whole, n - whole, off, s[u]);
    }
}

/* Every output channel of one pixel of a pointwise layer from its k input
 * values v, four filters at a time as a fully connected layer does
 * (dot_1x4): for a short last block of one pixel, where the
 * column block would take four pixels' time. v must not overlap the output. */
__attribute__((noinline)) static void pixel_outputs(const block_job *job, const int8_t *v,
                                                    int32_t off, int8_t *out)
{
    const int32_t k = job->k, cout = job->cout;
    int32_t oc, u;
    for (oc = 0; oc < cout; oc += 4) {
        const int32_t n = te_min_s32(4, cout - oc);
        const int8_t *w = job->filter + oc * k;
        int32_t acc[4];
        for (u = 0; u < n; u++) {
            acc[u] = job->bias != NULL ? job->bias[oc + u] : 0;
        }
        if (n == 4) {
            dot_1x4(v, w, k, k, off, acc);
        } else {
            for (u = 0; u < n; u++) {
                acc[u] = te_dsp_dot_row(v, w + u * k, k, off, acc[u]);
            }
        }
        for (u = 0; u < n; u++) {
            out[oc + u] = requant_output(acc[u], oc + u, job);
        }
    }
}

#if TE_CONV_SIX_BLOCKS
/* Windows of whole groups (k a multiple of 4, from 16 to TE_DSP_SIX_MAX_K):
 * blocks of six pixels, not four, so that each widened weight word feeds 12
 * SMLAD instead of 8. Per 4 weights: one LDR, two SXTB16, three LDM and 12
 * SMLAD (24 MACs), against 16 MACs of the four-pixel block in 13
 * instructions; the sixth sum takes r7, which the asm saves and restores
 * around its loop. Column layout as conv_columns', six pixels a group: word
 * (6g + j) * 2 holds k = 4g and 4g + 2 of pixel j, the next word 4g + 1 and
 * 4g + 3. Up to TE_DSP_SIX_MAX_BLOCKS blocks go together, as many as
 * TE_DSP_SIX_COLUMN_BYTES of columns hold (two for k <= 144, four for k <=
 * 72), each filter running over all of them: its per-filter set-up is shared
 * and its weights come from a flash accelerator's data cache after the first
 * block. The columns take at most 3.4 KB of stack (288 values x 6 pixels, 144
 * x 12 or 72 x 24), under the column path's 4.5 KB. The last pixels short of
 * a block take conv_columns, or, in a build without it, a short block of their
 * own (six_pixels). Filters in pairs (TE_CONV_FILTER_PAIRS) take the same
 * blocks, two filters at a time (filters_paired, below), and a short block
 * for their last pixels. Order of reads and writes: the blocks' outputs are
 * written after all their windows are widened, blocks in raster order, as in
 * conv_columns. */
#define TE_DSP_SIX 6
#define TE_DSP_SIX_MAX_K 288
#define TE_DSP_SIX_COLUMN_BYTES (TE_DSP_SIX_MAX_K * TE_DSP_SIX * 2)
/* -DTE_DSP_SIX_MAX_BLOCKS=2 (or 1) keeps the columns of short windows to 1.5 KB
 * (or 768 bytes) where a model's stack matters more than those layers' speed */
#ifndef TE_DSP_SIX_MAX_BLOCKS
#define TE_DSP_SIX_MAX_BLOCKS 4
#endif
typedef char te_six_max_blocks[TE_DSP_SIX_MAX_BLOCKS >= 1 ? 1 : -1];

/* The state of filters_six's loop, in memory; offsets fixed by the asm,
 * which loads the first eight fields with one LDM and stores the first five
 * back once per filter */
typedef struct {
    const int8_t *w;         /* 0: the next filter's weights */
    const int32_t *bias;     /* 4: the next filter's bias */
    const te_dsp_rq *rq;     /* 8: its requantization (te_dsp_rq_fold: offset folded in
                              * where right <= TE_DSP_FOLD_MAX_RIGHT) */
    int8_t *out;             /* 12: its output for the first pixel */
    int32_t filters;         /* 16: filters left, >= 1 */
    int32_t rq_step;         /* 20: sizeof (te_dsp_rq), or 0 when per tensor */
    int32_t w_bytes;         /* 24: weights per filter, 4 * groups */
    const int32_t *cols;     /* 28: the first block's columns */
    const int32_t *cols_end; /* 32: past the last block's */
    int32_t cout;            /* 36: output stride between pixels */
    int32_t groups;          /* 40: groups of 4 weights per filter, >= 1 */
    int32_t out_offset;      /* 44: filters_six adds it for an rq without it,
                              * filters_paired to every output */
    int32_t halves;          /* 48: filters_paired: 2, or 1 for pixels 0 to 2 of a
                              * block only (a short block of up to 3) */
} six_loop;
typedef char te_six_loop_layout[offsetof(six_loop, halves) == 48 ? 1 : -1];

#if TE_CONV_SIX
#if TE_DSP_ASM
/* One group of 4 dot-product steps for the six pixels of a block: the sums
 * in s0, s1, s2, r7, s4 and f */
#define TE_DSP_GROUP6                              \
    TE_DSP_GROUP_S3("r7")                          \
    "ldm %[c]!, {r8, r9, r10, r11}\n\t"            \
    "smlad %[s4], r8, %[w0], %[s4]\n\t"            \
    "smlad %[s4], r9, %[w1], %[s4]\n\t"            \
    "smlad %[f], r10, %[w0], %[f]\n\t"             \
    "smlad %[f], r11, %[w1], %[f]\n\t"

/* Sum S requantized in place, the offset folded in the rq, saturated */
#define TE_DSP_SIX_OUTPUT(S)                                               \
    TE_DSP_RQ_APPLY_ASM(S, "r8", "r9", "r10", "r11", "%[w0]", "%[w1]")   \
    "ssat " S ", #8, %[w1]\n\t"

/* The same for an rq without the offset, which is in w */
#define TE_DSP_SIX_OUTPUT_ADD(S) \
    TE_DSP_RQ_OUTPUT_ASM(S, "r8", "r9", "r10", "r11", "%[w0]", "%[w1]", "%[w]")

/* For each of f->filters filters, over the blocks from f->cols to
 * f->cols_end: the six sums from the filter's bias, requantized and stored
 * at out + j * cout. Every register is taken during the dot product, r7 too
 * (pushed first): the loop's state waits in a frame on the stack, sp + 0:
 * the filter's weights, 4: its bias, 8: its rq, 12: the end of its weights,
 * 16: the block's outputs (written by one STM per filter; the first two read
 * by one LDRD per block), 20: cout, 24: groups, 28: f, 32: cols_end, 36: the
 * output offset, which an rq of a right shift over TE_DSP_FOLD_MAX_RIGHT
 * does not hold. */
__attribute__((noinline)) static void filters_six(six_loop *f)
{
    register six_loop *fp __asm__("r0") = f;
    register const int8_t *w __asm__("r1");
    register const int32_t *c __asm__("r2");
    register int32_t w0 __asm__("r3");
    register int32_t s0 __asm__("r4");
    register int32_t s1 __asm__("r5");
    register int32_t s2 __asm__("r6");
    register int32_t s4 __asm__("r12");
    register int32_t w1 __asm__("lr");
    __asm__ volatile(
        "push {r7}\n\t"
        "sub sp, sp, #40\n\t"
        "str %[f], [sp, #28]\n\t"
        "ldr %[w0], [%[f], #44]\n\t"
        "str %[w0], [sp, #36]\n\t"
        "ldr %[w0], [%[f], #36]\n\t"
        "str %[w0], [sp, #20]\n\t"
        "ldr %[w0], [%[f], #40]\n\t"
        "str %[w0], [sp, #24]\n\t"
        "ldr %[w0], [%[f], #32]\n\t"
        "str %[w0], [sp, #32]\n\t"
        /* each filter: r1 = w, r2 = bias, r4 = rq, r6 = out, r8 = filters
         * left, r9 = rq_step, r10 = w_bytes, r11 = cols from f; the frame
         * gets w, the bias, rq, w + w_bytes (r5) and out; f the next
         * filter's fields */
        "10:\n\t"
        "ldr r0, [sp, #28]\n\t"
        "ldm r0, {r1, r2, r4, r6, r8, r9, r10, r11}\n\t"
        "subs r8, r8, #1\n\t"
        "bmi 9f\n\t"
        "ldr r3, [r2], #4\n\t"
        "add r5, r1, r10\n\t"
        "stm sp, {r1, r3, r4, r5, r6}\n\t"
        "mov r1, r5\n\t"
        "add r4, r4, r9\n\t"
        "add r6, r6, #1\n\t"
        "stm r0, {r1, r2, r4, r6, r8}\n\t"
        "mov %[c], r11\n\t"
        /* each block: the columns follow the block before */
        "11:\n\t"
        "ldrd %[w], %[s0], [sp]\n\t"
        "ldr %[w0], [sp, #24]\n\t"
        "mov %[s1], %[s0]\n\t"
        "mov %[s2], %[s0]\n\t"
        "mov r7, %[s0]\n\t"
        "mov %[s4], %[s0]\n\t"
        "mov %[f], %[s0]\n\t"
        /* groups mod 4, if any, out of line (label 5) */
        "tst %[w0], #3\n\t"
        "bne 5f\n\t"
        "12:\n\t"
        TE_DSP_GROUP6
        TE_DSP_GROUP6
        TE_DSP_GROUP6
        TE_DSP_GROUP6
        "ldr %[w0], [sp, #12]\n\t"
        "cmp %[w], %[w0]\n\t"
        "bne 12b\n\t"
        "3:\n\t"
        "ldr %[w], [sp, #8]\n\t"
        "ldm %[w], {r8, r9, r10, r11}\n\t"
        "cmp r11, #" TE_DSP_STR(TE_DSP_FOLD_MAX_RIGHT) "\n\t"
        "bgt 20f\n\t"
        TE_DSP_SIX_OUTPUT("%[s0]")
        TE_DSP_SIX_OUTPUT("%[s1]")
        TE_DSP_SIX_OUTPUT("%[s2]")
        TE_DSP_SIX_OUTPUT("r7")
        TE_DSP_SIX_OUTPUT("%[s4]")
        TE_DSP_SIX_OUTPUT("%[f]")
        "21:\n\t"
        /* the outputs at r8, r8 + cout (r9) ... r8 + 5 cout, their addresses
         * made ahead of the stores (no ALU-to-address interlock) */
        "ldrd r8, r9, [sp, #16]\n\t"
        "add r10, r8, r9, lsl #1\n\t"
        "add r11, r10, r9, lsl #1\n\t"
        "strb %[s0], [r8]\n\t"
        "strb %[s1], [r8, r9]\n\t"
        "strb %[s2], [r10]\n\t"
        "strb r7, [r10, r9]\n\t"
        "strb %[s4], [r11]\n\t"
        "strb %[f], [r11, r9]\n\t"
        "add r8, r11, r9, lsl #1\n\t"
        "str r8, [sp, #16]\n\t"
        "ldr %[w0], [sp, #32]\n\t"
        "cmp %[c], %[w0]\n\t"
        "bne 11b\n\t"
        "b 10b\n\t"
        /* groups mod 4 first: bit 0 into N, bit 1 into C, which the groups'
         * instructions leave alone; then the whole steps, if any */
        "5:\n\t"
        "lsls %[w0], %[w0], #31\n\t"
        "bpl 6f\n\t"
        TE_DSP_GROUP6
        "6:\n\t"
        "bcc 7f\n\t"
        TE_DSP_GROUP6
        TE_DSP_GROUP6
        "7:\n\t"
        "ldr %[w0], [sp, #12]\n\t"
        "cmp %[w], %[w0]\n\t"
        "bne 12b\n\t"
        "b 3b\n\t"
        /* an rq without the offset */
        "20:\n\t"
        "ldr %[w], [sp, #36]\n\t"
        TE_DSP_SIX_OUTPUT_ADD("%[s0]")
        TE_DSP_SIX_OUTPUT_ADD("%[s1]")
        TE_DSP_SIX_OUTPUT_ADD("%[s2]")
        TE_DSP_SIX_OUTPUT_ADD("r7")
        TE_DSP_SIX_OUTPUT_ADD("%[s4]")
        TE_DSP_SIX_OUTPUT_ADD("%[f]")
        "b 21b\n\t"
        "9:\n\t"
        "add sp, sp, #40\n\t"
        "pop {r7}\n\t"
        : [f] "+r"(fp), [w] "=&r"(w), [c] "=&r"(c), [s0] "=&r"(s0), [s1] "=&r"(s1),
          [s2] "=&r"(s2), [s4] "=&r"(s4), [w0] "=&r"(w0), [w1] "=&r"(w1)
        :
        : "r8", "r9", "r10", "r11", "cc", "memory");
}
#undef TE_DSP_SIX_OUTPUT_ADD
#undef TE_DSP_SIX_OUTPUT
#undef TE_DSP_GROUP6
#else
static void filters_six(six_loop *f)
{
    const int32_t cout = f->cout;
    for (; f->filters > 0; f->filters--) {
        const int32_t bias = *f->bias++;
        const int32_t *c = f->cols;
        int8_t *out = f->out;
        int32_t g, j;
        for (; c != f->cols_end; out += TE_DSP_SIX * cout) {
            int32_t s[TE_DSP_SIX];
            for (j = 0; j < TE_DSP_SIX; j++) {
                s[j] = bias;
            }
            for (g = 0; g < f->groups; g++, c += 2 * TE_DSP_SIX) {
                const int32_t a = te_dsp_ld4(f->w + 4 * g);
                const int32_t lo = __sxtb16(a), hi = te_dsp_sxtb16_ror8(a);
                for (j = 0; j < TE_DSP_SIX; j++) {
                    s[j] = __smlad(c[2 * j + 1], hi, __smlad(c[2 * j], lo, s[j]));
                }
            }
            const int32_t off = f->rq->right > TE_DSP_FOLD_MAX_RIGHT ? f->out_offset : 0;
            for (j = 0; j < TE_DSP_SIX; j++) {
                out[j * cout] = te_dsp_out_s8(te_dsp_rq_apply(s[j], f->rq), off, -128, 127, 1);
            }
        }
        f->w += f->w_bytes;
        f->rq = (const te_dsp_rq *)((const char *)f->rq + f->rq_step);
        f->out++;
    }
}
#endif
#endif /* TE_CONV_SIX */

#if TE_CONV_PAIRED
/* Filters in pairs (TE_CONV_FILTER_PAIRS, te_types.h: word g of filter 2p,
 * then word g of 2p + 1): each pass over a block's groups computes three
 * pixels of two filters, so that one column word feeds two SMLAD. Per 4
 * weights of both filters one LDRD and four SXTB16, per pixel one LDM (or
 * LDRD) of its two column words and four SMLAD: 24 MACs in about 28 cycles,
 * against 31 of filters_six. A six-pixel block takes two passes: its pixels 0
 * to 2 (the first 6 words of each group's 12), then 3 to 5; a pair runs the
 * first pass over all the blocks, then the second. The two filters'
 * outputs of a pixel are adjacent bytes (C_out is even), stored as one
 * halfword. Past k = 128 a pair's weights no longer fit a flash
 * accelerator's 256-byte data cache, and each pass reads them from flash
 * again; measured, pairs still win (IC's layer of k = 288, 5 wait states:
 * 3,969,962 cycles in rows, 3,893,994 in pairs). */

#if TE_DSP_ASM
/* One group of 4 dot-product steps for a pass: the weights of filters 2p
 * and 2p + 1 into r3, r8 and r9, r10; pixel j's two column words into r11
 * and lr; filter 2p's sums in r4, r5, r6, 2p + 1's in r7, r12, r0. The
 * third load steps over the other pass's 6 words. */
#define TE_DSP_PAIRED_GROUP                        \
    "ldrd r3, r9, [r1], #8\n\t"                    \
    "sxtb16 r8, r3, ror #8\n\t"                    \
    "sxtb16 r3, r3\n\t"                            \
    "sxtb16 r10, r9, ror #8\n\t"                   \
    "sxtb16 r9, r9\n\t"                            \
    "ldm r2!, {r11, lr}\n\t"                       \
    "smlad r4, r11, r3, r4\n\t"                    \
    "smlad r4, lr, r8, r4\n\t"                     \
    "smlad r7, r11, r9, r7\n\t"                    \
    "smlad r7, lr, r10, r7\n\t"                    \
    "ldm r2!, {r11, lr}\n\t"                       \
    "smlad r5, r11, r3, r5\n\t"                    \
    "smlad r5, lr, r8, r5\n\t"                     \
    "smlad r12, r11, r9, r12\n\t"                  \
    "smlad r12, lr, r10, r12\n\t"                  \
    "ldrd r11, lr, [r2], #32\n\t"                  \
    "smlad r6, r11, r3, r6\n\t"                    \
    "smlad r6, lr, r8, r6\n\t"                     \
    "smlad r0, r11, r9, r0\n\t"                    \
    "smlad r0, lr, r10, r0\n\t"

/* Sum S requantized with the rq in r3, r8, r9, r10, the output offset (in
 * r1) added, saturated. (Folding the offset into the rq, as filters_six does,
 * would save the ADD but not the out-of-line path of the channels it does
 * not fit, whose code would not leave this loop in a 1 KB instruction cache.) */
#define TE_DSP_PAIRED_OUTPUT(S) \
    TE_DSP_RQ_OUTPUT_ASM(S, "r3", "r8", "r9", "r10", "r11", "lr", "r1")

/* For each pair of f->filters filters, both passes over the blocks from
 * f->cols to f->cols_end. Every register is taken during the dot product,
 * r7 too (pushed first): the loop's state waits in a frame on the stack,
 * sp + 0: the pair's weights, 4: where the dot product starts (bytes past
 * label 12), 8 and 12: the pair's two biases (one LDM reads these four),
 * 16: the block's outputs, 20: cout, 24: the end of the pair's weights, 28:
 * f, 32: where the pass ends (cols_end, then cols_end + 24), 36: the first
 * filter's rq, 40: the output offset, 44: the second filter's rq (one LDRD
 * reads an rq and the offset), 48: the pair's first output, 52: cols_end.
 * The dot product takes 8 groups per iteration and starts into its first
 * iteration so as to leave groups mod 8 there: at group 8 - groups mod 8 of
 * the 8, each 80 bytes of code (checked). */
__attribute__((noinline)) static void filters_paired(six_loop *f)
{
    register six_loop *fp __asm__("r0") = f;
    __asm__ volatile(
        "push {r7}\n\t"
        "sub sp, sp, #56\n\t"
        "str r0, [sp, #28]\n\t"
        "ldr r3, [r0, #44]\n\t"
        "str r3, [sp, #40]\n\t"
        "ldr r3, [r0, #36]\n\t"
        "str r3, [sp, #20]\n\t"
        "ldr r3, [r0, #32]\n\t"
        "str r3, [sp, #52]\n\t"
        /* the entry: 80 * ((8 - groups) mod 8) bytes past label 12 */
        "ldr r3, [r0, #40]\n\t"
        "rsb r3, r3, #8\n\t"
        "and r3, r3, #7\n\t"
        "add r3, r3, r3, lsl #2\n\t"
        "lsl r3, r3, #4\n\t"
        "str r3, [sp, #4]\n\t"
        /* each pair: r1 = w, r2 = bias, r4 = rq, r6 = out, r8 = filters
         * left, r9 = rq_step, r10 = w_bytes, r11 = cols from f; the frame
         * gets w, the two biases, w + 2 * w_bytes (r12), the two rqs and
         * out; f the next pair's fields */
        "10:\n\t"
        "ldr r0, [sp, #28]\n\t"
        "ldm r0, {r1, r2, r4, r6, r8, r9, r10, r11}\n\t"
        "subs r8, r8, #2\n\t"
        "bmi 9f\n\t"
        "ldrd r3, r5, [r2], #8\n\t"
        "add r12, r1, r10, lsl #1\n\t"
        "str r1, [sp]\n\t"
        "strd r3, r5, [sp, #8]\n\t"
        "str r12, [sp, #24]\n\t"
        "add lr, r4, r9\n\t"
        "str r4, [sp, #36]\n\t"
        "str lr, [sp, #44]\n\t"
        "add r4, lr, r9\n\t"
        "str r6, [sp, #16]\n\t"
        "str r6, [sp, #48]\n\t"
        "add r6, r6, #2\n\t"
        "mov r1, r12\n\t"
        "stm r0, {r1, r2, r4, r6, r8}\n\t"
        "ldr r3, [sp, #52]\n\t"
        "str r3, [sp, #32]\n\t"
        "mov r2, r11\n\t"
        /* each block of a pass: the sums from the biases, then the entry */
        "11:\n\t"
        "ldm sp, {r1, r3, r4, r7}\n\t"
        "mov r5, r4\n\t"
        "mov r6, r4\n\t"
        "mov r12, r7\n\t"
        "mov r0, r7\n\t"
        /* PC reads as this ADD's address + 4: label 12 */
        "14:\n\t"
        "add pc, r3\n\t"
        "nop.n\n\t"
        "12:\n\t"
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        TE_DSP_PAIRED_GROUP
        "13:\n\t"
        ".if (13b - 12b) != 8 * 80 || (12b - 14b) != 4\n\t"
        ".error \"filters_paired: the entry into the groups is not where it jumps\"\n\t"
        ".endif\n\t"
        "ldr r3, [sp, #24]\n\t"
        "cmp r1, r3\n\t"
        "bne 12b\n\t"
        "ldrd r11, r1, [sp, #36]\n\t"
        "ldm r11, {r3, r8, r9, r10}\n\t"
        TE_DSP_PAIRED_OUTPUT("r4")
        TE_DSP_PAIRED_OUTPUT("r5")
        TE_DSP_PAIRED_OUTPUT("r6")
        "ldrd r1, r11, [sp, #40]\n\t"
        "ldm r11, {r3, r8, r9, r10}\n\t"
        TE_DSP_PAIRED_OUTPUT("r7")
        TE_DSP_PAIRED_OUTPUT("r12")
        TE_DSP_PAIRED_OUTPUT("r0")
        /* pixel j's two outputs as one halfword at out + j * cout; out then
         * moved on to the next block's (6 pixels on) */
        "ldrd r8, r9, [sp, #16]\n\t"
        "bfi r4, r7, #8, #8\n\t"
        "bfi r5, r12, #8, #8\n\t"
        "bfi r6, r0, #8, #8\n\t"
        "strh r4, [r8]\n\t"
        "strh r5, [r8, r9]\n\t"
        "strh r6, [r8, r9, lsl #1]\n\t"
        "add r8, r8, r9, lsl #2\n\t"
        "add r8, r8, r9, lsl #1\n\t"
        "str r8, [sp, #16]\n\t"
        "ldr r3, [sp, #32]\n\t"
        "cmp r2, r3\n\t"
        "bne 11b\n\t"
        /* the end of a pass: after the second, or the first of one half,
         * the next pair; else the second: the columns from cols + 24 bytes
         * (pixel 3 of the first block), the outputs from the pair's first +
         * 3 * cout */
        "ldr r8, [sp, #52]\n\t"
        "cmp r3, r8\n\t"
        "bne 10b\n\t"
        "ldr r0, [sp, #28]\n\t"
        "ldr r8, [r0, #48]\n\t"
        "cmp r8, #1\n\t"
        "beq 10b\n\t"
        "add r3, r3, #24\n\t"
        "str r3, [sp, #32]\n\t"
        "ldr r2, [r0, #28]\n\t"
        "add r2, r2, #24\n\t"
        "ldr r8, [sp, #48]\n\t"
        "ldr r9, [sp, #20]\n\t"
        "add r8, r8, r9\n\t"
        "add r8, r8, r9, lsl #1\n\t"
        "str r8, [sp, #16]\n\t"
        "b 11b\n\t"
        "9:\n\t"
        "add sp, sp, #56\n\t"
        "pop {r7}\n\t"
        : "+r"(fp)
        :
        : "r1", "r2", "r3", "r4", "r5", "r6", "r8", "r9", "r10", "r11", "r12", "lr", "cc",
          "memory");
}
#undef TE_DSP_PAIRED_OUTPUT
#undef TE_DSP_PAIRED_GROUP
#else
static void filters_paired(six_loop *f)
{
    const int32_t cout = f->cout, block_words = 2 * TE_DSP_SIX * f->groups;
    for (; f->filters > 0; f->filters -= 2, f->w += 2 * f->w_bytes, f->bias += 2, f->out += 2) {
        const te_dsp_rq *rq[2] = {f->rq, (const te_dsp_rq *)((const char *)f->rq + f->rq_step)};
        const int32_t *block;
        int8_t *out = f->out;
        f->rq = (const te_dsp_rq *)((const char *)rq[1] + f->rq_step);
        for (block = f->cols; block != f->cols_end;
             block += block_words, out += TE_DSP_SIX * cout) {
            int32_t j, g, u;
            for (j = 0; j < 3 * f->halves; j++) {
                const int32_t *c = block + (j / 3) * 6 + (j % 3) * 2;
                for (u = 0; u < 2; u++) {
                    int32_t s = f->bias[u];
                    for (g = 0; g < f->groups; g++) {
                        const int32_t a = te_dsp_ld4(f->w + 8 * g + 4 * u);
                        s = __smlad(c[12 * g + 1], te_dsp_sxtb16_ror8(a),
                                    __smlad(c[12 * g], __sxtb16(a), s));
                    }
                    out[j * cout + u] = te_dsp_out_s8(te_dsp_rq_apply(s, rq[u]), f->out_offset,
                                                      -128, 127, 1);
                }
            }
        }
    }
}
#endif

/* Whether conv_six can take a layer of filters in pairs (groups 1): C_out
 * even, k a multiple of 4 up to TE_DSP_SIX_MAX_K, a bias and every
 * channel's requantization prepared */
TE_DSP_INLINE int takes_paired(const block_job *job)
{
    return job->cout % 2 == 0 && job->k % 4 == 0 && job->k <= TE_DSP_SIX_MAX_K &&
           job->prepared && job->bias != NULL;
}
#endif

/* Whether conv_six takes this layer (groups 1): k a multiple of 4 from 16
 * (shorter pointwise windows take conv_narrow) up to TE_DSP_SIX_MAX_K, a
 * bias and every channel's requantization prepared */
TE_DSP_INLINE int takes_six(const block_job *job)
{
    return job->k % 4 == 0 && job->k >= 16 && job->k <= TE_DSP_SIX_MAX_K && job->prepared &&
           job->bias != NULL;
}

/* Column slot d of a six-pixel block from the window of output pixel
 * (batch, oy, ox): rows of whole groups straight from the input where the
 * window lies inside the image, else a copy (window_of, k bytes) */
static void six_slot(const conv_shape *sh, const int8_t *input, int32_t batch, int32_t oy,
                     int32_t ox, int32_t *d, int32_t off2, int8_t *window)
{
    const te_conv_params *p = sh->params;
    const int32_t c = sh->in->c, run = sh->filter->w * c, k = sh->filter->h * run;
    const int8_t *src;
    if (run % 4 == 0 && inside_rows(sh, oy, ox)) {
        const int32_t row_step = p->dilation_h * sh->in->w * c;
        int32_t ky;
        src = input + ((batch * sh->in->h + oy * p->stride_h - p->pad_h) * sh->in->w +
                       ox * p->stride_w - p->pad_w) * c;
        for (ky = 0; ky < sh->filter->h; ky++, src += row_step) {
            widen_six(d + ky * (run / 4) * 2 * TE_DSP_SIX, src, run / 4, off2);
        }
        return;
    }
    src = window_of(sh, input, batch, oy, ox, (int8_t)-p->input_offset, window);
    widen_six(d, src, k / 4, off2);
}

/* How many of a layer's pixels conv_six takes where the column path is
 * built: whole blocks of six, but for one where that would leave 2 or 3
 * pixels, which take column blocks of 4 better with the block before them.
 * Without the column path (a folder none of whose other layers needs it),
 * all of them: a last, short block computes six pixels and keeps the
 * outputs of its own (six_short_outputs). */
TE_DSP_INLINE int32_t six_pixels(int32_t pixels)
{
    const int32_t rest = pixels % TE_DSP_SIX;
    const int32_t six = pixels - rest;
    if (!TE_CONV_COLUMNS) {
        return pixels;
    }
    return (rest == 2 || rest == 3) && six > 0 ? six - TE_DSP_SIX : six;
}

/* filters_six or filters_paired */
typedef void six_filters_fn(six_loop *f);

/* Filters at a time of six_short_outputs (6 bytes each on the stack) */
#define TE_DSP_SIX_CHUNK 16

/* The outputs of the first count (< 6) pixels of a block: filters_six or
 * filters_paired (only the block's first half, for 3 pixels or fewer) into a
 * buffer on the stack, TE_DSP_SIX_CHUNK filters at a time, then copied */
__attribute__((noinline)) static void six_short_outputs(const block_job *job, six_loop *f,
                                                        int32_t count, int8_t *out,
                                                        six_filters_fn *filters)
{
    /* halfwords: filters_paired stores two outputs at a time */
    int16_t buffer[TE_DSP_SIX * TE_DSP_SIX_CHUNK / 2];
    int32_t oc, j;
    for (oc = 0; oc < job->cout; oc += TE_DSP_SIX_CHUNK) {
        const int32_t n = te_min_s32(TE_DSP_SIX_CHUNK, job->cout - oc);
        f->bias = job->bias + oc;
        f->rq = job->rq + (job->per_channel ? oc : 0);
        f->out = (int8_t *)buffer;
        f->cout = n;
        f->filters = n;
        f->w = job->filter + oc * job->k;
        f->halves = count <= 3 ? 1 : 2;
        filters(f);
        for (j = 0; j < count; j++) {
            memcpy(out + j * job->cout + oc, (int8_t *)buffer + j * n, (size_t)n);
        }
    }
}

/* off folded into (or, -off, taken out of) each entry of the call's
 * requantization table that has room for it (te_dsp_rq_fold) */
TE_DSP_INLINE void six_fold_offset(const block_job *job, int32_t off)
{
    const int32_t n = job->per_channel ? job->cout : 1;
    int32_t i;
    for (i = 0; i < n; i++) {
        if (job->rq[i].right <= TE_DSP_FOLD_MAX_RIGHT) {
            te_dsp_rq_fold(&job->rq[i], off);
        }
    }
}

/* takes_six (filters: filters_six, the output offset folded into the
 * call's requantization table by six_fold_offset) or takes_paired (filters:
 * filters_paired): the outputs of the first `pixels` pixels (six_pixels; all
 * of them for filters_paired), in blocks of six, up to
 * TE_DSP_SIX_MAX_BLOCKS at a time. */
__attribute__((noinline)) static void conv_six(const conv_shape *sh, const block_job *job,
                                               const int8_t *input, int8_t *output,
                                               int32_t pixels, six_filters_fn *filters)
{
    const int32_t k = job->k, cout = job->cout, groups = k / 4;
    const int32_t oh = sh->out->h, ow = sh->out->w;
    const int32_t off2 = te_dsp_dup16(sh->params->input_offset);
    const int pointwise = is_pointwise(sh);
    const int32_t block_words = 2 * TE_DSP_SIX * groups;
    /* blocks at a time: as many as the budget holds, but no more than the
     * layer's whole blocks fill */
    const int32_t most = te_max_s32(1, te_min_s32(te_min_s32(TE_DSP_SIX_MAX_BLOCKS,
                                                             TE_DSP_SIX_COLUMN_BYTES /
                                                             (block_words * 4)),
                                                  pixels / TE_DSP_SIX));
    int32_t cols[block_words * most];
    int8_t window[pointwise ? 4 : k];
    six_loop f;
    int32_t first = 0, j, batch = 0, oy = 0, ox = 0;
    f.groups = groups;
    f.w_bytes = k;
    f.rq_step = job->per_channel ? (int32_t)sizeof(te_dsp_rq) : 0;
    f.out_offset = job->output_offset;
    f.halves = 2;
    if (pixels < TE_DSP_SIX) {
        /* a layer of one short block: its slots past `pixels` read zeros */
        memset(cols, 0, sizeof cols);
    }
    while (first < pixels) {
        const int32_t blocks = te_max_s32(1, te_min_s32(most, (pixels - first) / TE_DSP_SIX));
        /* under 6 only for a last, short block, whose slots past count keep
         * the columns of the block before (or zeros): their sums are
         * dropped */
        const int32_t count = te_min_s32(blocks * TE_DSP_SIX, pixels - first);
        for (j = 0; j < count; j++) {
            int32_t *const d = cols + j / TE_DSP_SIX * block_words + 2 * (j % TE_DSP_SIX);
            if (pointwise) {
                /* pixels are consecutive runs of k values */
                widen_six(d, input + (first + j) * k, groups, off2);
            } else {
                six_slot(sh, input, batch, oy, ox, d, off2, window);
                next_pixel(&batch, &oy, &ox, oh, ow);
            }
        }
        f.cols = cols;
        f.cols_end = cols + blocks * block_words;
        if (count < TE_DSP_SIX) {
            six_short_outputs(job, &f, count, output + first * cout, filters);
        } else {
            f.bias = job->bias;
            f.rq = job->rq;
            f.out = output + first * cout;
            f.cout = cout;
            f.filters = cout;
            f.w = job->filter;
            filters(&f);
        }
        if (!job->full_range) {
            /* the requantization saturated to all of int8 */
            te_dsp_clamp_s8(output + first * cout, count * cout, job->activation_min,
                            job->activation_max);
        }
        first += count;
    }
}
#endif

/* Ungrouped, window length k <= TE_DSP_MAX_K: the pixels from `start` on. */
static void conv_columns(const conv_shape *sh, const block_job *job, const int8_t *input,
                         int8_t *output, int32_t start)
{
    const te_conv_params *p = sh->params;
    const int32_t oh = sh->out->h, ow = sh->out->w, cout = sh->out->c;
    const int32_t k = job->k;
    const int32_t pixels = sh->out->n * oh * ow;
    const int32_t off = p->input_offset;
    const int32_t off2 = te_dsp_dup16(off);
    const int8_t pad = (int8_t)-off;
    const int32_t k4 = (k + 3) & ~3;
    const int pointwise = is_pointwise(sh);
    /* rows of a few groups are cheaper copied into one window */
    const int rows_aligned = (sh->filter->w * sh->in->c) % 4 == 0 &&
                             sh->filter->w * sh->in->c >= 16;
    /* Two blocks at a time (8 pixels) where a filter's weights fit in a
     * flash accelerator's data cache with room to spare (at most 144 bytes,
     * in whole steps of filters_pair_block's dot product): its second pass
     * then reads them from the cache. */
    const int pairs = k4 <= TE_DSP_PAIR_MAX_K && k4 % 16 == 0;
    const int32_t block_words = 2 * TE_DSP_BLOCK * (k4 / 4);
    int32_t cols[block_words * (pairs ? 2 : 1)];
    int8_t window[pointwise ? 4 : rows_aligned ? sh->filter->w * sh->in->c : k4];
    int32_t first = start;
    int32_t batch = start / (oh * ow), oy = start / ow % oh, ox = start % ow;

    if (!pointwise && !rows_aligned) {
        /* past k the window copy holds pad: its groups need no tail */
        fill_run(window + k, pad, k4 - k);
    }

    while (first < pixels) {
        const int32_t count = te_min_s32(TE_DSP_BLOCK, pixels - first);
        const int32_t blocks = pairs && pixels - first >= 2 * TE_DSP_BLOCK ? 2 : 1;
        int32_t j, b;
        if (count == 1 && pointwise) {
            /* the pixel's input copied into the column buffer (8 bytes per
             * value), which the outputs cannot overlap */
            int8_t *const v = (int8_t *)cols;
            te_dsp_copy_forward(v, input + first * k, k);
            pixel_outputs(job, v, off, output + first * cout);
            break;
        }
        for (b = 0; b < blocks; b++) {
            int32_t *const block = cols + b * block_words;
            const int32_t block_first = first + b * TE_DSP_BLOCK;
            if (b > 0) {
                next_pixel(&batch, &oy, &ox, oh, ow);
            }
            if (!pointwise && (TE_CONV_ROW_BLOCKS || !rows_aligned) && ox + count <= ow &&
                inside_rows(sh, oy, ox) && inside_rows(sh, oy, ox + count - 1)) {
                /* the common case: the whole block in one output row, inside
                 * the image */
                const int8_t *const corner =
                    input + ((batch * sh->in->h + oy * p->stride_h - p->pad_h) * sh->in->w +
                             ox * p->stride_w - p->pad_w) * sh->in->c;
                if (rows_aligned) {
#if TE_CONV_ROW_BLOCKS
                    widen_rows_block(sh, corner, count, off2, block);
#endif
                } else {
                    /* a few input channels (a first layer) */
                    window_rows_block(sh, corner, count, off2, k4, window, block);
                }
                ox += count - 1;
                continue;
            }
            for (j = 0; j < TE_DSP_BLOCK; j++) {
                /* a short last block repeats its last pixel */
                if (pointwise) {
                    /* pixels are consecutive C_in runs of the input */
                    widen(block, j, input + (block_first + te_min_s32(j, count - 1)) * k, k,
                          off2, pad);
                } else if (rows_aligned) {
                    widen_rows(sh, input, batch, oy, ox, block, j, off2, pad, window);
                } else {
                    const int8_t *src = window_of(sh, input, batch, oy, ox, pad, window);
                    widen(block, j, src, src == window ? k4 : k, off2, pad);
                }
                if (j + 1 < count) {
                    next_pixel(&batch, &oy, &ox, oh, ow);
                }
            }
        }
        block_outputs(job, cols, output + first * cout, count, blocks);
        next_pixel(&batch, &oy, &ox, oh, ow);
        first += blocks * TE_DSP_BLOCK;
    }
}

#if TE_CONV_FILTER_COLUMNS
/* Short windows of few filters (first layers): the filters, not the pixels,
 * are widened into column blocks, once per call (4 filters a block,
 * conv_columns' layout with filter j in slot j), and each pixel's window is
 * read as bytes against them by the same dot product, with no per-pixel
 * widening. The input offset is folded into each filter's start, bias + off *
 * sum w (wrapping, as the reference's uint32 sum), which every window may
 * take: its padding taps hold -off, so (in + off) is 0 there, as for the taps
 * the reference skips. Order of reads and writes: a pixel's window is copied
 * before its outputs are written, pixels in raster order, as in the
 * reference. */
/* Most stack the filters' columns take */
#define TE_DSP_FILTER_COLUMN_BYTES 1280
/* Longest window of the path: its per-pixel copy grows with the window */
#define TE_DSP_FILTER_COLUMN_MAX_K 64

/* What runs for each pixel inside the image (filter_row, filter_blocks: under
 * 1 KB) goes in one section, so that it lies together in flash and no part of
 * it evicts another from a small instruction cache. */
#define TE_DSP_FILTER_ROW_SECTION __attribute__((noinline, section(".text.te_filter_row")))

/* Whether conv_filter_columns takes this layer (groups 1) */
TE_DSP_INLINE int takes_filter_columns(const conv_shape *sh, const block_job *job)
{
    const int32_t k4 = (job->k + 3) & ~3, cout4 = (job->cout + 3) & ~3;
    return job->prepared && !is_pointwise(sh) && job->k <= TE_DSP_FILTER_COLUMN_MAX_K &&
           cout4 * k4 * 2 <= TE_DSP_FILTER_COLUMN_BYTES;
}

/* One pixel's outputs from full blocks of filter columns, read by
 * filter_blocks: offsets fixed by its asm. */
typedef struct {
    const int32_t *cols;   /* 0: the first block's columns */
    int8_t *window;        /* 4: the pixel's window, whole groups */
    int32_t groups;        /* 8: groups of 4 values in a window, >= 1 */
    const int32_t *init;   /* 12: each filter's start (bias + off * sum w) */
    const te_dsp_rq *rq;   /* 16: each filter's requantization */
    int8_t *out;           /* 20: the pixel's first output */
    int32_t out_offset;    /* 24 */
    int32_t blocks;        /* 28: full blocks of 4 filters, >= 1 */
} filter_blocks_job;
typedef char te_filter_blocks_layout[offsetof(filter_blocks_job, blocks) == 28 ? 1 : -1];

#if TE_DSP_ASM
/* Requantizes sum S of the block's next filter in place (to int8, the
 * activation range all of int8): the filter's fields by LDM from c (moved
 * on), the output offset in w. */
#define TE_DSP_FILTER_OUTPUT(S)          \
    "ldm %[c]!, {r8, r9, r10, r11}\n\t" \
    TE_DSP_RQ_OUTPUT_ASM(S, "r8", "r9", "r10", "r11", "%[w0]", "%[w1]", "%[w]")

/* For each of f->blocks blocks: the 4 sums from f->init by dot_block's dot
 * product, requantized with every filter's prepared form, the 4 outputs
 * stored by one (unaligned) STR. The running pointers wait on the stack
 * (sp + 0: f, 4: init, 8: rq, 12: out, 16: blocks left, 20: columns), as
 * every register but r7 is taken during the dot product. */
TE_DSP_FILTER_ROW_SECTION static void filter_blocks(const filter_blocks_job *job)
{
    register const filter_blocks_job *fp __asm__("r0") = job;
    register const int8_t *w __asm__("r1");
    register const int32_t *c __asm__("r2");
    register int32_t w0 __asm__("r3");
    register int32_t s0 __asm__("r4");
    register int32_t s1 __asm__("r5");
    register int32_t s2 __asm__("r6");
    register int32_t s3 __asm__("r12");
    register int32_t w1 __asm__("lr");
    __asm__ volatile(
        "sub sp, sp, #24\n\t"
        "ldr %[w0], [%[f], #12]\n\t"
        "ldr %[w1], [%[f], #16]\n\t"
        "ldr %[w], [%[f], #20]\n\t"
        "strd %[f], %[w0], [sp]\n\t"
        "strd %[w1], %[w], [sp, #8]\n\t"
        "ldr %[w0], [%[f], #28]\n\t"
        "str %[w0], [sp, #16]\n\t"
        "ldr %[c], [%[f], #0]\n\t"
        "5:\n\t"
        "ldr %[w0], [sp, #4]\n\t"
        "ldm %[w0]!, {%[s0], %[s1], %[s2], %[s3]}\n\t"
        "str %[w0], [sp, #4]\n\t"
        "ldr %[w], [%[f], #4]\n\t"
        "ldr %[f], [%[f], #8]\n\t"
        TE_DSP_DOT("%[f]")
        /* c is on the next block's columns */
        "str %[c], [sp, #20]\n\t"
        "ldr %[c], [sp, #8]\n\t"
        "ldr %[f], [sp]\n\t"
        "ldr %[w], [%[f], #24]\n\t"
        TE_DSP_FILTER_OUTPUT("%[s0]")
        TE_DSP_FILTER_OUTPUT("%[s1]")
        TE_DSP_FILTER_OUTPUT("%[s2]")
        TE_DSP_FILTER_OUTPUT("%[s3]")
        "str %[c], [sp, #8]\n\t"
        "bfi %[s0], %[s1], #8, #8\n\t"
        "bfi %[s0], %[s2], #16, #8\n\t"
        "bfi %[s0], %[s3], #24, #8\n\t"
        "ldr %[w], [sp, #12]\n\t"
        "str %[s0], [%[w]], #4\n\t"
        "str %[w], [sp, #12]\n\t"
        "ldr %[c], [sp, #20]\n\t"
        "ldr %[w0], [sp, #16]\n\t"
        "subs %[w0], %[w0], #1\n\t"
        "str %[w0], [sp, #16]\n\t"
        "bne 5b\n\t"
        "add sp, sp, #24\n\t"
        : [f] "+r"(fp), [w] "=&r"(w), [c] "=&r"(c), [s0] "=&r"(s0), [s1] "=&r"(s1),
          [s2] "=&r"(s2), [s3] "=&r"(s3), [w0] "=&r"(w0), [w1] "=&r"(w1)
        :
        : "r8", "r9", "r10", "r11", "cc", "memory");
}
#undef TE_DSP_FILTER_OUTPUT
#else
TE_DSP_FILTER_ROW_SECTION static void filter_blocks(const filter_blocks_job *job)
{
    const int32_t *cols = job->cols;
    int32_t b, j;
    for (b = 0; b < job->blocks; b++, cols += 2 * TE_DSP_BLOCK * job->groups) {
        int32_t s[TE_DSP_BLOCK];
        for (j = 0; j < TE_DSP_BLOCK; j++) {
            s[j] = job->init[b * TE_DSP_BLOCK + j];
        }
        dot_block(cols, job->window, job->groups, s);
        for (j = 0; j < TE_DSP_BLOCK; j++) {
            job->out[b * TE_DSP_BLOCK + j] = te_dsp_out_s8(
                te_dsp_rq_apply(s[j], &job->rq[b * TE_DSP_BLOCK + j]), job->out_offset, -128,
                127, 1);
        }
    }
}
#endif

/* The outputs of count pixels of a row whose windows lie inside the image
 * with contiguous rows, the first window's corner at src, the next ones step
 * bytes further: each window's kh rows of run bytes (row_step apart in the
 * input) copied into job->window, then filter_blocks. */
TE_DSP_FILTER_ROW_SECTION static void filter_row(filter_blocks_job *job, const int8_t *src,
                                                 int32_t count, int32_t step, int32_t kh,
                                                 int32_t run, int32_t row_step, int32_t cout)
{
    int32_t n, ky;
    for (n = 0; n < count; n++, src += step, job->out += cout) {
        const int8_t *row = src;
        int8_t *dst = job->window;
        for (ky = 0; ky < kh; ky++, row += row_step, dst += run) {
            te_dsp_copy_forward(dst, row, run);
        }
        filter_blocks(job);
    }
}

/* Groups 1, takes_filter_columns (every channel's requantization prepared) */
__attribute__((noinline)) static void conv_filter_columns(const conv_shape *sh,
                                                          const block_job *job,
                                                          const int8_t *input, int8_t *output)
{
    const te_conv_params *p = sh->params;
    const int32_t ih = sh->in->h, iw = sh->in->w, c = sh->in->c;
    const int32_t kh = sh->filter->h, kw = sh->filter->w;
    const int32_t oh = sh->out->h, ow = sh->out->w, cout = job->cout, k = job->k;
    const int32_t k4 = (k + 3) & ~3, groups = k4 / 4;
    const int32_t block_words = 2 * TE_DSP_BLOCK * groups;
    const int32_t full = cout / TE_DSP_BLOCK, blocks = (cout + TE_DSP_BLOCK - 1) / TE_DSP_BLOCK;
    const int32_t off = p->input_offset;
    const int8_t pad = (int8_t)-off;
    /* a window inside the image: kh rows of run bytes, row_step apart */
    const int32_t run = kw * c, row_step = p->dilation_h * iw * c;
    /* the output columns whose windows lie inside the image's (contiguous
     * rows, whole blocks: the rest takes the pixel loop below) */
    const int rows = (kw == 1 || p->dilation_w == 1) && full == blocks;
    int32_t ox_in0 = 0, ox_in1;
    int32_t cols[blocks * block_words];
    int32_t init[TE_DSP_BLOCK * blocks];
    te_dsp_rq rq[TE_DSP_BLOCK * blocks];
    int8_t window[k4];
    filter_blocks_job fb;
    int32_t f, i, batch, oy, ox;

    memset(cols, 0, sizeof cols);
    for (f = 0; f < TE_DSP_BLOCK * blocks; f++) {
        const int8_t *w = job->filter + f * k;
        int32_t sum = 0;
        rq[f] = job->rq[job->per_channel && f < cout ? f : 0];
        init[f] = 0;
        if (f < cout) {
            for (i = 0; i < k; i++) {
                sum += w[i];
            }
            widen(cols + f / TE_DSP_BLOCK * block_words, f % TE_DSP_BLOCK, w, k, 0, 0);
            init[f] = te_dsp_wadd(job->bias != NULL ? job->bias[f] : 0, te_dsp_wmul(off, sum));
        }
    }
    /* past k the window holds pad, against columns of 0 */
    fill_run(window + k, pad, k4 - k);
    fb.cols = cols;
    fb.window = window;
    fb.groups = groups;
    fb.init = init;
    fb.rq = rq;
    fb.out_offset = job->output_offset;
    fb.blocks = full;
    while (ox_in0 < ow && ox_in0 * p->stride_w - p->pad_w < 0) {
        ox_in0++;
    }
    for (ox_in1 = ox_in0;
         ox_in1 < ow && ox_in1 * p->stride_w - p->pad_w + (kw - 1) * p->dilation_w < iw;
         ox_in1++) {
    }

    for (batch = 0; batch < sh->out->n; batch++) {
        for (oy = 0; oy < oh; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int8_t *const out_row = output + (batch * oh + oy) * ow * cout;
            int8_t *out = out_row;
            const int row_inside = rows && ox_in1 > ox_in0 && y0 >= 0 &&
                                   y0 + (kh - 1) * p->dilation_h < ih;
            for (ox = 0; ox < ow; ox++, out += cout) {
                const int8_t *src;
                if (row_inside && ox == ox_in0) {
                    /* the common case: the windows inside the image */
                    fb.out = out;
                    filter_row(&fb,
                               input + ((batch * ih + y0) * iw + ox * p->stride_w - p->pad_w) * c,
                               ox_in1 - ox_in0, p->stride_w * c, kh, run, row_step, cout);
                    out += (ox_in1 - ox_in0 - 1) * cout;
                    ox = ox_in1 - 1;
                    continue;
                }
                src = window_of(sh, input, batch, oy, ox, pad, window);
                if (src != window) {
                    te_dsp_copy_forward(window, src, k);
                }
                if (full > 0) {
                    fb.out = out;
                    filter_blocks(&fb);
                }
                if (full < blocks) {
                    /* the last cout mod 4 filters */
                    int32_t sums[TE_DSP_BLOCK], j;
                    for (j = 0; j < TE_DSP_BLOCK; j++) {
                        sums[j] = init[full * TE_DSP_BLOCK + j];
                    }
                    dot_block(cols + full * block_words, window, groups, sums);
                    for (j = full * TE_DSP_BLOCK; j < cout; j++) {
                        out[j] = te_dsp_out_s8(te_dsp_rq_apply(sums[j % TE_DSP_BLOCK], &rq[j]),
                                               job->output_offset, -128, 127, 1);
                    }
                }
            }
            if (!job->full_range) {
                /* the requantization saturated to all of int8 */
                te_dsp_clamp_s8(out_row, ow * cout, job->activation_min, job->activation_max);
            }
        }
    }
}
#endif

/* s[o] += sum (in[i] + off) * w_o[i], i < n, for 1 pixel x 2 filters
 * (off in [-127, 128], so in + off fits a halfword). */
static inline void dot_1x2_off(const int8_t *in, const int8_t *w0, const int8_t *w1,
                               int32_t n, int32_t off, int32_t *s)
{
    const int32_t off2 = te_dsp_dup16(off);
    int32_t s0 = s[0], s1 = s[1];
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const int32_t a = te_dsp_ld4(in + i);
        const int32_t ae = __sadd16(__sxtb16(a), off2);
        const int32_t ao = __sadd16(te_dsp_sxtb16_ror8(a), off2);
        int32_t b = te_dsp_ld4(w0 + i);
        s0 = __smlad(ae, __sxtb16(b), s0);
        s0 = __smlad(ao, te_dsp_sxtb16_ror8(b), s0);
        b = te_dsp_ld4(w1 + i);
        s1 = __smlad(ae, __sxtb16(b), s1);
        s1 = __smlad(ao, te_dsp_sxtb16_ror8(b), s1);
    }
    for (; i < n; i++) {
        const int32_t a = in[i] + off;
        s0 = te_dsp_wadd(s0, a * w0[i]);
        s1 = te_dsp_wadd(s1, a * w1[i]);
    }
    s[0] = s0; s[1] = s1;
}

/* Windows longer than TE_DSP_MAX_K (ungrouped) of layers of at most
 * TE_DSP_LONG_MAX_COUT filters take the column path in chunks: the columns
 * of TE_DSP_LONG_CHUNK window values at a time, every filter's sums for the
 * block kept on the stack between chunks (16 bytes a filter), the outputs
 * requantized and written once the last chunk is done, so in the same order
 * as conv_columns. -DTE_DSP_LONG_MAX_COUT=512 trades 4 KB more stack for
 * layers of 257-512 filters (mobilenet_v2, with a 960-to-320 layer: 2.7% faster). */
#define TE_DSP_LONG_CHUNK 144 /* a multiple of 4 */
#ifndef TE_DSP_LONG_MAX_COUT
#define TE_DSP_LONG_MAX_COUT 256
#endif

/* dst[i] = window value k0 + i of output pixel (batch, oy, ox), i < n, in the
 * window's (ky, kx, c) order, pad where the tap lies outside the image. */
static void window_part(const conv_shape *sh, const int8_t *input, int32_t batch, int32_t oy,
                        int32_t ox, int32_t k0, int32_t n, int8_t pad, int8_t *dst)
{
    const te_conv_params *p = sh->params;
    const int32_t ih = sh->in->h, iw = sh->in->w, c = sh->in->c, kw = sh->filter->w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const int8_t *in_b = input + batch * ih * iw * c;
    int32_t k = k0;
    while (k < k0 + n) {
        const int32_t tap = k / c, ch = k % c, len = te_min_s32(c - ch, k0 + n - k);
        const int32_t y = y0 + tap / kw * p->dilation_h, x = x0 + tap % kw * p->dilation_w;
        if (y >= 0 && y < ih && x >= 0 && x < iw) {
            te_dsp_copy_forward(dst + (k - k0), in_b + (y * iw + x) * c + ch, len);
        } else {
            fill_run(dst + (k - k0), pad, len);
        }
        k += len;
    }
}

__attribute__((noinline)) static void conv_long(const conv_shape *sh, const block_job *job,
                                                const int8_t *input, int8_t *output)
{
    const int32_t oh = sh->out->h, ow = sh->out->w, cout = job->cout, k = job->k;
    const int32_t pixels = sh->out->n * oh * ow;
    const int32_t off = sh->params->input_offset, off2 = te_dsp_dup16(off);
    const int8_t pad = (int8_t)-off;
    int32_t cols[2 * TE_DSP_BLOCK * (TE_DSP_LONG_CHUNK / 4)];
    int8_t window[TE_DSP_LONG_CHUNK];
    int32_t sums[TE_DSP_BLOCK * cout];
    int32_t batch = 0, oy = 0, ox = 0, first, k0, oc, j;
    for (first = 0; first < pixels; first += TE_DSP_BLOCK) {
        const int32_t count = te_min_s32(TE_DSP_BLOCK, pixels - first);
        /* (batch, oy, ox) of the block's first pixel, kept for each chunk */
        const int32_t b0 = batch, y0 = oy, x0 = ox;
        int8_t *out = output + first * cout;
        for (k0 = 0; k0 < k; k0 += TE_DSP_LONG_CHUNK) {
            const int32_t n = te_min_s32(TE_DSP_LONG_CHUNK, k - k0), groups = n / 4;
            batch = b0;
            oy = y0;
            ox = x0;
            for (j = 0; j < TE_DSP_BLOCK; j++) {
                /* a short last block repeats its last pixel */
                window_part(sh, input, batch, oy, ox, k0, n, pad, window);
                widen(cols, j, window, n, off2, pad);
                if (j + 1 < count) {
                    next_pixel(&batch, &oy, &ox, oh, ow);
                }
            }
            for (oc = 0; oc < cout; oc++) {
                int32_t *s = sums + TE_DSP_BLOCK * oc;
                const int8_t *w = job->filter + oc * k + k0;
                if (k0 == 0) {
                    s[0] = s[1] = s[2] = s[3] = job->bias != NULL ? job->bias[oc] : 0;
                }
                dot_block(cols, w, groups, s);
                if (n > 4 * groups) {
                    dot_block_tail(cols + groups * 2 * TE_DSP_BLOCK, w + 4 * groups,
                                   n - 4 * groups, s);
                }
            }
        }
        for (j = 0; j < count; j++) {
            for (oc = 0; oc < cout; oc++) {
                out[j * cout + oc] = requant_output(sums[TE_DSP_BLOCK * oc + j], oc, job);
            }
        }
        next_pixel(&batch, &oy, &ox, oh, ow);
    }
}

/* Grouped convolutions, and long windows of more filters than conv_long
 * takes: one pixel at a time, raster order, valid taps only, read in place.
 * Filters go four at a time where four of one group remain (dot_1x4: each
 * input word widened once for the four), else two. Out of line, so that its
 * frame is not part of the column path's. */
__attribute__((noinline)) static void conv_in_place(const conv_shape *sh, const block_job *job,
                                                    const int8_t *input, int8_t *output,
                                                    int32_t filters_per_group)
{
    const te_conv_params *p = sh->params;
    const int32_t ih = sh->in->h, iw = sh->in->w, ic_all = sh->in->c;
    const int32_t kh = sh->filter->h, kw = sh->filter->w, fc = sh->filter->c;
    const int32_t oh = sh->out->h, ow = sh->out->w, cout = sh->out->c;
    const int32_t dh = p->dilation_h, dw = p->dilation_w, off = p->input_offset;
    const int32_t fsize = kh * kw * fc;
    int32_t oc, batch, oy, ox;

    for (batch = 0; batch < sh->out->n; batch++) {
        const int8_t *in_b = input + batch * ih * iw * ic_all;
        for (oy = 0; oy < oh; oy++) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            int32_t ky0, ky1;
            valid_taps(y0, kh, dh, ih, &ky0, &ky1);
            for (ox = 0; ox < ow; ox++) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int8_t *out = output + ((batch * oh + oy) * ow + ox) * cout;
                int32_t kx0, kx1, ky, kx;
                valid_taps(x0, kw, dw, iw, &kx0, &kx1);
                for (oc = 0; oc < cout;) {
                    const int32_t group = oc / filters_per_group;
                    const int four = oc + 3 < cout && (oc + 3) / filters_per_group == group;
                    const int32_t oc1 =
                        (oc + 1 < cout && (oc + 1) / filters_per_group == group) ? oc + 1 : oc;
                    const int32_t n = four ? 4 : oc1 - oc + 1;
                    const int8_t *w0 = job->filter + oc * fsize, *w1 = job->filter + oc1 * fsize;
                    int32_t s[4], u;
                    for (u = 0; u < 4; u++) {
                        s[u] = job->bias != NULL && u < n ? job->bias[oc + u] : 0;
                    }
                    for (ky = ky0; ky < ky1 && kx0 < kx1; ky++) {
                        const int8_t *r = in_b + (y0 + ky * dh) * iw * ic_all + group * fc;
                        const int32_t wo = ky * kw * fc;
                        /* the runs of this row: all of it, or one tap each */
                        const int whole_row = dw == 1 && fc == ic_all;
                        const int32_t run = whole_row ? (kx1 - kx0) * fc : fc;
                        for (kx = kx0; kx < (whole_row ? kx0 + 1 : kx1); kx++) {
                            const int8_t *x = r + (x0 + kx * dw) * ic_all;
                            if (four) {
                                dot_1x4(x, w0 + wo + kx * fc, fsize, run, off, s);
                            } else {
                                dot_1x2_off(x, w0 + wo + kx * fc, w1 + wo + kx * fc, run, off, s);
                            }
                        }
                    }
                    for (u = 0; u < n; u++) {
                        out[oc + u] = requant_channel(s[u], oc + u, job);
                    }
                    oc += n;
                }
            }
        }
    }
}

/* Pointwise layers of at most TE_DSP_NARROW_K input channels (VWW's 8-to-16
 * and 16-to-32 layers), where a column block's per-filter set-up costs more
 * than its few groups of dot product: 128 pixels at a time (64 for 9 to 16
 * channels) are widened, in passes of 8 values (0 past k, as are the
 * weights; 2.5 KB of stack with the sums), then each filter runs over all of
 * them a pass at a time with 8 of its weights in registers (narrow_dot: 7
 * instructions an output, 8 for a pass that adds to the sums) and its sums
 * are requantized with its fields in registers (narrow_requant: 10). A
 * chunk's outputs are written after all its inputs are widened, and chunks
 * go in raster order, which keeps the planner's order. */
#define TE_DSP_NARROW_K 16
#define TE_DSP_NARROW_PASS 8
/* pixels of one pass that a chunk's columns hold (a multiple of 4: a chunk
 * of either pass count is even, as narrow_requant takes pairs) */
#define TE_DSP_NARROW_PIXELS 128

/* The word of bytes src[0..3], 0 for those at first + r >= k */
static inline int32_t padded_word(const int8_t *src, int32_t first, int32_t k)
{
    uint32_t word = 0;
    int32_t r;
    if (first + 4 <= k) {
        return te_dsp_ld4(src);
    }
    for (r = 0; r < 4 && first + r < k; r++) {
        word |= (uint32_t)(uint8_t)src[r] << (8 * r);
    }
    return (int32_t)word;
}

#if TE_DSP_ASM
/* One pixel of narrow_dot: its 8 widened values at c (moved on) against w0-w3,
 * from the sum that START leaves in a (loaded from s, or the bias b) */
#define TE_DSP_NARROW_PIXEL(START)                  \
    "ldm %[c]!, {r8, r9, r10, r11}\n\t"             \
    START                                           \
    "smlad %[a], r9, %[w1], %[a]\n\t"               \
    "smlad %[a], r10, %[w2], %[a]\n\t"              \
    "smlad %[a], r11, %[w3], %[a]\n\t"              \
    "str %[a], [%[s]], #4\n\t"
#define TE_DSP_NARROW_FROM_BIAS "smlad %[a], r8, %[w0], %[b]\n\t"
#define TE_DSP_NARROW_FROM_SUM "ldr %[a], [%[s]]\n\tsmlad %[a], r8, %[w0], %[a]\n\t"

#define TE_DSP_NARROW_REGS                                  \
    register const int32_t *cp __asm__("r0") = c;           \
    register int32_t *sums_p __asm__("r1") = s;             \
    register int32_t *end __asm__("r2") = s + ((n + 1) & ~1); \
    register int32_t w0 __asm__("r4") = w[0];               \
    register int32_t w1 __asm__("r5") = w[1];               \
    register int32_t w2 __asm__("r6") = w[2];               \
    register int32_t w3 __asm__("r12") = w[3];              \
    register int32_t a __asm__("lr")

/* s[j] = bias + the dot product of the 8 widened values of pixel j at
 * c + 4 j with the weights w (as SXTB16 and SXTB16 ROR #8 give them, two
 * words per group of 4), for j < n (n >= 1); two pixels per iteration, so
 * for an odd n also s[n], from what lies at c + 4 n. */
static void narrow_dot(const int32_t *c, const int32_t w[4], int32_t bias, int32_t *s, int32_t n)
{
    TE_DSP_NARROW_REGS;
    register int32_t b __asm__("r3") = bias;
    __asm__ volatile(
        "1:\n\t"
        TE_DSP_NARROW_PIXEL(TE_DSP_NARROW_FROM_BIAS)
        TE_DSP_NARROW_PIXEL(TE_DSP_NARROW_FROM_BIAS)
        "cmp %[s], %[end]\n\t"
        "bne 1b\n\t"
        : [c] "+r"(cp), [s] "+r"(sums_p), [a] "=&r"(a)
        : [end] "r"(end), [b] "r"(b), [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2), [w3] "r"(w3)
        : "r8", "r9", "r10", "r11", "cc", "memory");
}

/* narrow_dot adding to s[j] instead of starting from a bias (a pass after
 * the first) */
static void narrow_dot_add(const int32_t *c, const int32_t w[4], int32_t *s, int32_t n)
{
    TE_DSP_NARROW_REGS;
    __asm__ volatile(
        "1:\n\t"
        TE_DSP_NARROW_PIXEL(TE_DSP_NARROW_FROM_SUM)
        TE_DSP_NARROW_PIXEL(TE_DSP_NARROW_FROM_SUM)
        "cmp %[s], %[end]\n\t"
        "bne 1b\n\t"
        : [c] "+r"(cp), [s] "+r"(sums_p), [a] "=&r"(a)
        : [end] "r"(end), [w0] "r"(w0), [w1] "r"(w1), [w2] "r"(w2), [w3] "r"(w3)
        : "r8", "r9", "r10", "r11", "cc", "memory");
}
#undef TE_DSP_NARROW_REGS
#undef TE_DSP_NARROW_FROM_SUM
#undef TE_DSP_NARROW_FROM_BIAS
#undef TE_DSP_NARROW_PIXEL

/* out[j * cout] = te_dsp_out_s8(te_dsp_rq_apply(s[j], rq), offset, -128, 127,
 * 1) for j < 2 * pairs (pairs >= 1), two per iteration */
static void narrow_requant(const int32_t *s, int32_t pairs, const te_dsp_rq *rq,
                           int32_t offset, int8_t *out, int32_t cout)
{
    register const int32_t *sums_p __asm__("r0") = s;
    register const int32_t *end __asm__("r1") = s + 2 * pairs;
    register int8_t *o __asm__("r2") = out;
    register int32_t step __asm__("r3") = cout;
    register int32_t x __asm__("r4");
    register int32_t y __asm__("r5");
    register int32_t off __asm__("r6") = offset;
    register int32_t m __asm__("r8") = rq->multiplier;
    register uint32_t rlo __asm__("r9") = rq->round_lo;
    register int32_t rhi __asm__("r10") = rq->round_hi;
    register int32_t right __asm__("r11") = rq->right;
    register uint32_t lo __asm__("r12");
    register int32_t hi __asm__("lr");
    __asm__ volatile(
        "1:\n\t"
        "ldrd %[x], %[y], [%[s]], #8\n\t"
        TE_DSP_RQ_APPLY_ASM("%[x]", "%[m]", "%[rlo]", "%[rhi]", "%[right]", "%[lo]", "%[hi]")
        "add %[hi], %[hi], %[off]\n\t"
        "ssat %[hi], #8, %[hi]\n\t"
        "strb %[hi], [%[o]]\n\t"
        TE_DSP_RQ_APPLY_ASM("%[y]", "%[m]", "%[rlo]", "%[rhi]", "%[right]", "%[lo]", "%[hi]")
        "add %[hi], %[hi], %[off]\n\t"
        "ssat %[hi], #8, %[hi]\n\t"
        "strb %[hi], [%[o], %[step]]\n\t"
        "add %[o], %[o], %[step], lsl #1\n\t"
        "cmp %[s], %[end]\n\t"
        "bne 1b\n\t"
        : [s] "+r"(sums_p), [o] "+r"(o), [x] "=&r"(x), [y] "=&r"(y), [lo] "=&r"(lo),
          [hi] "=&r"(hi)
        : [end] "r"(end), [step] "r"(step), [off] "r"(off), [m] "r"(m), [rlo] "r"(rlo),
          [rhi] "r"(rhi), [right] "r"(right)
        : "cc", "memory");
}
#else
static void narrow_dot(const int32_t *c, const int32_t w[4], int32_t bias, int32_t *s, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j++, c += 4) {
        s[j] = __smlad(c[3], w[3], __smlad(c[2], w[2], __smlad(c[1], w[1],
                                                                 __smlad(c[0], w[0], bias))));
    }
}

static void narrow_dot_add(const int32_t *c, const int32_t w[4], int32_t *s, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; j++, c += 4) {
        s[j] = __smlad(c[3], w[3], __smlad(c[2], w[2], __smlad(c[1], w[1],
                                                                 __smlad(c[0], w[0], s[j]))));
    }
}

static void narrow_requant(const int32_t *s, int32_t pairs, const te_dsp_rq *rq,
                           int32_t offset, int8_t *out, int32_t cout)
{
    int32_t j;
    for (j = 0; j < 2 * pairs; j++) {
        out[j * cout] = te_dsp_out_s8(te_dsp_rq_apply(s[j], rq), offset, -128, 127, 1);
    }
}
#endif

__attribute__((noinline)) static void conv_narrow(const conv_shape *sh, const block_job *job,
                                                  const int8_t *input, int8_t *output)
{
    const int32_t k = job->k, cout = job->cout;
    const int32_t passes = (k + TE_DSP_NARROW_PASS - 1) / TE_DSP_NARROW_PASS;
    /* pixels per chunk: as many as the columns hold (even) */
    const int32_t chunk = TE_DSP_NARROW_PIXELS / passes;
    const int32_t pass_words = 4 * chunk;
    const int32_t pixels = sh->out->n * sh->out->h * sh->out->w;
    const int32_t off2 = te_dsp_dup16(sh->params->input_offset);
    /* a chunk's columns, pass p's (4 words a pixel) from cols + p * pass_words,
     * and one filter's sums (narrow_dot's second pixel of an odd count reads
     * and writes in here: it is less than the even chunk) */
    int32_t cols[4 * TE_DSP_NARROW_PIXELS];
    int32_t sums[TE_DSP_NARROW_PIXELS];
    int32_t first, j, g, oc, pass;
    for (first = 0; first < pixels; first += chunk) {
        const int32_t n = te_min_s32(chunk, pixels - first);
        const int8_t *src = input + first * k;
        int8_t *out = output + first * cout;
        if (k == TE_DSP_NARROW_PASS) {
            widen_run(cols, src, 2 * n, off2);
        } else if (k % TE_DSP_NARROW_PASS == 0) {
            for (j = 0; j < n; j++, src += k) {
                for (pass = 0; pass < passes; pass++) {
                    widen_run(cols + pass * pass_words + 4 * j, src + TE_DSP_NARROW_PASS * pass,
                              2, off2);
                }
            }
        } else {
            /* past k: the offset alone, against weights of 0 */
            for (j = 0; j < n; j++, src += k) {
                for (g = 0; g < 2 * passes; g++) {
                    const int32_t a = padded_word(src + 4 * g, 4 * g, k);
                    int32_t *d = cols + (g >> 1) * pass_words + 4 * j + 2 * (g & 1);
                    d[0] = __sadd16(__sxtb16(a), off2);
                    d[1] = __sadd16(te_dsp_sxtb16_ror8(a), off2);
                }
            }
        }
        for (oc = 0; oc < cout; oc++) {
            const te_dsp_rq *rq = &job->rq[job->per_channel ? oc : 0];
            const int8_t *row = job->filter + oc * k;
            const int32_t bias = job->bias != NULL ? job->bias[oc] : 0;
            for (pass = 0; pass < passes; pass++) {
                const int32_t at = TE_DSP_NARROW_PASS * pass;
                int32_t w[4];
                for (g = 0; g < 2; g++) {
                    const int32_t a = padded_word(row + at + 4 * g, at + 4 * g, k);
                    w[2 * g] = __sxtb16(a);
                    w[2 * g + 1] = te_dsp_sxtb16_ror8(a);
                }
                if (pass == 0) {
                    narrow_dot(cols, w, bias, sums, n);
                } else {
                    narrow_dot_add(cols + pass * pass_words, w, sums, n);
                }
            }
            if (n >= 2) {
                narrow_requant(sums, n / 2, rq, job->output_offset, out + oc, cout);
            }
            if (n & 1) {
                out[(n - 1) * cout + oc] = te_dsp_out_s8(te_dsp_rq_apply(sums[n - 1], rq),
                                                         job->output_offset, -128, 127, 1);
            }
        }
        if (!job->full_range) {
            /* the requantization saturated to all of int8 */
            te_dsp_clamp_s8(out, n * cout, job->activation_min, job->activation_max);
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
    conv_shape sh;
    block_job job;

    if (te_conv2d_s8_args(params, quant, input_dims, input, filter_dims, filter, output_dims,
                          output) != TE_OK) {
        return TE_ARG_ERROR;
    }
    groups = input_dims->c / filter_dims->c;
    filters_per_group = output_dims->c / groups;

    /* sized once quant->count is known to be 1 or C_out */
    te_dsp_rq rq[quant->count <= TE_DSP_RQ_MAX_CH ? quant->count : TE_DSP_RQ_CHUNK];
    sh.params = params;
    sh.in = input_dims;
    sh.filter = filter_dims;
    sh.out = output_dims;
    job.filter = filter;
    job.bias = bias;
    job.multipliers = quant->multipliers;
    job.shifts = quant->shifts;
    job.per_channel = quant->count != 1;
    job.rq = rq;
    job.prepared = te_dsp_rq_table(rq, quant->multipliers, quant->shifts, quant->count);
    job.full_range = params->activation_min == -128 && params->activation_max == 127;
    job.k = filter_dims->h * filter_dims->w * filter_dims->c;
    job.cout = output_dims->c;
    job.output_offset = params->output_offset;
    job.activation_min = params->activation_min;
    job.activation_max = params->activation_max;
    job.tail_filters = NULL;
    if (params->filter_layout == TE_CONV_FILTER_PAIRS) {
        /* tinyedge pairs the filters of the layers that take filters_paired */
#if TE_CONV_PAIRED
        if (groups == 1 && takes_paired(&job)) {
            conv_six(&sh, &job, input, output, output_dims->n * output_dims->h * output_dims->w,
                     filters_paired);
            return TE_OK;
        }
        return TE_ARG_ERROR;
#else
        return TE_PATH_LEFT_OUT;
#endif
    }
    if (params->filter_layout != TE_CONV_FILTERS) {
        return TE_ARG_ERROR;
    }
#if TE_CONV_FILTER_COLUMNS
    if (groups == 1 && takes_filter_columns(&sh, &job)) {
        conv_filter_columns(&sh, &job, input, output);
        return TE_OK;
    }
#endif
#if TE_CONV_SIX
    if (groups == 1 && takes_six(&job)) {
        /* blocks of six pixels, then any rest in column blocks */
        const int32_t pixels = output_dims->n * output_dims->h * output_dims->w;
        const int32_t done = six_pixels(pixels);
        if (pixels >= TE_DSP_SIX) {
            if (done > 0) {
                /* the output offset in the rqs for filters_six, then taken
                 * out again for the column path */
                six_fold_offset(&job, job.output_offset);
                conv_six(&sh, &job, input, output, done, filters_six);
                six_fold_offset(&job, -job.output_offset);
            }
#if TE_CONV_COLUMNS
            if (done < pixels) {
                conv_columns(&sh, &job, input, output, done);
            }
#endif
            return TE_OK;
        }
    }
#endif
    if (TE_CONV_COLUMNS && groups == 1 && job.k <= TE_DSP_MAX_K &&
        !(TE_CONV_NARROW && job.k <= TE_DSP_NARROW_K && job.prepared && is_pointwise(&sh))) {
        /* For a short window (the last group of the last filter is costly
         * there), the last filters' copy that the asm loops can read whole. */
        const int32_t whole = whole_group_filters(job.k, job.cout);
        const int32_t tail_bytes = (job.cout - whole) * job.k;
        int8_t tail[tail_bytes > 0 && tail_bytes <= TE_DSP_PAIR_MAX_K ? tail_bytes + 3 : 1];
        if (tail_bytes > 0 && tail_bytes <= TE_DSP_PAIR_MAX_K) {
            memcpy(tail, filter + whole * job.k, (size_t)tail_bytes);
            memset(tail + tail_bytes, 0, 3);
            job.tail_filters = tail;
        }
        conv_columns(&sh, &job, input, output, 0);
    } else if (TE_CONV_NARROW && groups == 1 && job.k <= TE_DSP_NARROW_K &&
               (TE_CONV_COLUMNS || (job.prepared && is_pointwise(&sh)))) {
        /* pointwise with every channel prepared (the test above, or here
         * without the column path; in this order GCC builds the column
         * path's loops as before) */
        conv_narrow(&sh, &job, input, output);
    } else if (TE_CONV_LONG && groups == 1 && job.cout <= TE_DSP_LONG_MAX_COUT &&
               (TE_CONV_COLUMNS || job.k > TE_DSP_MAX_K)) {
        conv_long(&sh, &job, input, output);
    } else if (TE_CONV_IN_PLACE) {
        conv_in_place(&sh, &job, input, output, filters_per_group);
    } else {
        return TE_PATH_LEFT_OUT;
    }
    return TE_OK;
}
