/* Helium (MVE) helpers of the Cortex-M55 kernels (kernels/src/mve/): dot
 * products of one vector of int8 values against rows of int8 weights, and
 * TFLite's requantization of four sums at once in int32 lanes. */
#ifndef TINYEDGE_TE_MVE_H
#define TINYEDGE_TE_MVE_H

#include "tinyedge/te_types.h"

#include <arm_mve.h>
#include <stddef.h>
#include <stdint.h>

/* for helpers a kernel may leave unused */
#define TE_MVE_HELPER static __attribute__((unused))

/* A layer's requantization in lanes: multipliers and shifts per channel
 * (step 1) or one pair for all (step 0) */
typedef struct {
    const int32_t *multipliers;
    const int8_t *shifts;
    int32_t step;
    int32_t output_offset, activation_min, activation_max;
} rq_lanes;

/* rq_lanes of a layer */
static inline rq_lanes rq_lanes_of(const te_requant *quant, int32_t output_offset,
                                   int32_t activation_min, int32_t activation_max)
{
    rq_lanes rq;
    rq.multipliers = quant->multipliers;
    rq.shifts = quant->shifts;
    rq.step = quant->count != 1;
    rq.output_offset = output_offset;
    rq.activation_min = activation_min;
    rq.activation_max = activation_max;
    return rq;
}

/* The requantization of four channels in lanes, prepared: te_mbqm's
 * multiplier, left shift (0 to 31) and minus its right shift (-31 to 0) */
typedef struct {
    int32x4_t mult, left, neg_right;
} rq_vectors;

/* rq_vectors of the nf <= 4 channels from oc (lanes past nf: not read) */
static inline rq_vectors rq_prepare(const rq_lanes *rq, int32_t oc, int32_t nf)
{
    const mve_pred16_t p = vctp32q((uint32_t)nf);
    rq_vectors v;
    int32x4_t shift;
    if (rq->step && nf == 4) {
        v.mult = vldrwq_s32(rq->multipliers + oc);
        shift = vldrbq_s32(rq->shifts + oc);
    } else if (rq->step) {
        v.mult = vldrwq_z_s32(rq->multipliers + oc, p);
        shift = vldrbq_z_s32(rq->shifts + oc, p);
    } else {
        v.mult = vdupq_n_s32(rq->multipliers[0]);
        shift = vdupq_n_s32(rq->shifts[0]);
    }
    v.left = vminq_s32(vmaxq_s32(shift, vdupq_n_s32(0)), vdupq_n_s32(31));
    v.neg_right = vmaxq_s32(vminq_s32(shift, vdupq_n_s32(0)), vdupq_n_s32(-31));
    return v;
}

/* The sums acc requantized as te_mbqm does, the output offset added and the
 * activation range applied: VSHL wraps like its left shift; VQRDMULH rounds
 * half up and saturates only -2^31 * -2^31, as gemmlowp's doubling high
 * multiply; VRSHL rounds half up too, so 1 is first taken from negative
 * values where the right shift is not 0, which sends their ties away from
 * zero, as gemmlowp's RoundingDivideByPOT. */
static inline int32x4_t rq_apply(int32x4_t acc, const rq_vectors *v, const rq_lanes *rq)
{
    int32x4_t high = vqrdmulhq_s32(vshlq_s32(acc, v->left), v->mult);
    /* -1 where both high and -right have the sign bit */
    high = vqaddq_s32(high, vshrq_n_s32(vandq_s32(high, v->neg_right), 31));
    return vminq_s32(vmaxq_s32(vaddq_n_s32(vrshlq_s32(high, v->neg_right), rq->output_offset),
                               vdupq_n_s32(rq->activation_min)),
                     vdupq_n_s32(rq->activation_max));
}

/* out[j] for sums acc of the nf <= 4 channels from oc (lanes past nf not
 * stored) */
static inline void requantize_lanes(int32x4_t acc, int32_t nf, int32_t oc, const rq_lanes *rq,
                                    int8_t *out)
{
    const rq_vectors v = rq_prepare(rq, oc, nf);
    vstrbq_p_s32(out, rq_apply(acc, &v, rq), vctp32q((uint32_t)nf));
}

/* The outputs of 4 * quads channels from oc (their weights in rows at w, k
 * bytes each) for one vector x of k int8 values, their sums from start[] (0
 * where start is NULL): int8 lanes, 64 MACs per ten instructions. Out of
 * line, so that its pointers and sums stay in registers. */
TE_MVE_HELPER __attribute__((noinline)) void quads_s8(const int8_t *x, const int8_t *w,
                                                      int32_t k, int32_t quads,
                                                      const int32_t *start, int32_t oc,
                                                      const rq_lanes *rq, int8_t *out)
{
    int32_t q;
    for (q = 0; q < quads; q++, w += 4 * k) {
        const int8_t *xi = x, *w0 = w, *w1 = w + k, *w2 = w1 + k, *w3 = w2 + k;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, n;
        int32x4_t acc;
        if (start != NULL) {
            s0 = start[4 * q];
            s1 = start[4 * q + 1];
            s2 = start[4 * q + 2];
            s3 = start[4 * q + 3];
        }
        /* whole chunks of 16, then the rest predicated */
        for (n = k >> 4; n > 0; n--) {
            const int8x16_t xv = vldrbq_s8(xi);
            s0 = vmladavaq_s8(s0, xv, vldrbq_s8(w0));
            s1 = vmladavaq_s8(s1, xv, vldrbq_s8(w1));
            s2 = vmladavaq_s8(s2, xv, vldrbq_s8(w2));
            s3 = vmladavaq_s8(s3, xv, vldrbq_s8(w3));
            xi += 16;
            w0 += 16;
            w1 += 16;
            w2 += 16;
            w3 += 16;
        }
        if (k & 15) {
            const mve_pred16_t p = vctp8q((uint32_t)(k & 15));
            const int8x16_t xv = vldrbq_z_s8(xi, p);
            s0 = vmladavaq_s8(s0, xv, vldrbq_z_s8(w0, p));
            s1 = vmladavaq_s8(s1, xv, vldrbq_z_s8(w1, p));
            s2 = vmladavaq_s8(s2, xv, vldrbq_z_s8(w2, p));
            s3 = vmladavaq_s8(s3, xv, vldrbq_z_s8(w3, p));
        }
        acc = vsetq_lane_s32(s3, vsetq_lane_s32(s2, vsetq_lane_s32(s1, vdupq_n_s32(s0), 1), 2),
                             3);
        {
            const rq_vectors v = rq_prepare(rq, oc + 4 * q, 4);
            vstrbq_s32(out + 4 * q, rq_apply(acc, &v, rq));
        }
    }
}

/* s[j] += sum of x[i] * w[j * k + i], i < k, for j < nf < 4 */
TE_MVE_HELPER void dot_few_s8(const int8_t *x, const int8_t *w, int32_t k, int32_t nf, int32_t s[4])
{
    int32_t j, n;
    for (j = 0; j < nf; j++) {
        const int8_t *xj = x, *wj = w + j * k;
        for (n = k; n > 0; n -= 16, xj += 16, wj += 16) {
            const mve_pred16_t p = vctp8q((uint32_t)n);
            s[j] = vmladavaq_s8(s[j], vldrbq_z_s8(xj, p), vldrbq_z_s8(wj, p));
        }
    }
}

/* out[j] for the nf <= 4 sums s of channels from oc */
TE_MVE_HELPER void requantize4(const int32_t s[4], int32_t nf, int32_t oc, const rq_lanes *rq,
                        int8_t *out)
{
    int32x4_t acc = vdupq_n_s32(s[0]);
    acc = vsetq_lane_s32(s[1], acc, 1);
    acc = vsetq_lane_s32(s[2], acc, 2);
    acc = vsetq_lane_s32(s[3], acc, 3);
    requantize_lanes(acc, nf, oc, rq, out);
}

#endif /* TINYEDGE_TE_MVE_H */
