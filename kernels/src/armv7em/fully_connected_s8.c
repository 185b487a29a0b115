/* FULLY_CONNECTED, int8: ARMv7E-M DSP variant (Cortex-M4/M7), bit-exact with
 * kernels/src/ref/fully_connected_s8.c.
 *
 * Four units at a time share each input word: it is widened once (SXTB16,
 * SXTB16 ROR #8), the input offset added (SADD16), and multiplied with a word
 * of each unit's weights by two SMLAD. The filter offset, when there is one,
 * is folded out: sum (w + f_off) * (in + off) = sum w * (in + off)
 * + f_off * sum (in + off). Every step wraps modulo 2^32 like the reference's
 * uint32 accumulator, so the order of the additions does not matter.
 *
 * Order of reads and writes: batch rows one after the other; a row's outputs
 * are written while only that row's input remains to be read, as the memory
 * planner assumes (tinyedge/planner/overlap.py, rows_limit).
 */
#include "tinyedge/te_kernels.h"
#include "tinyedge/te_arith.h"
#include "te_dsp.h"

#include <stddef.h>

/* a[u] += sum over d < 4 * quads of w_u[d] * (in[d] + off), for the units
 * u = 0..3 whose rows start at w, w + depth, w + 2 * depth, w + 3 * depth.
 * One asm loop (4 x 2 SMLAD per input word, 13 registers, so that r7 stays
 * free for a frame pointer; the end of the input waits on the stack): GCC
 * spills the C version, which only -O0 builds take (TE_DSP_ASM). */
#if TE_DSP_ASM
static void dot_4_units(const int8_t *in, const int8_t *w, int32_t depth, int32_t quads,
                        int32_t off2, int32_t *a)
{
    const int8_t *w2 = w + 2 * depth;
    const int8_t *const in_end = in + 4 * quads;
    int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    int32_t x, xo, f, fo;
    if (quads < 1) {
        return;
    }
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
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3),
          [in] "+r"(in), [w] "+r"(w), [w2] "+r"(w2),
          [x] "=&r"(x), [xo] "=&r"(xo), [f] "=&r"(f), [fo] "=&r"(fo)
        : [depth] "r"(depth), [off2] "r"(off2), [end] "m"(in_end)
        : "cc", "memory");
    a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

#else
static void dot_4_units(const int8_t *in, const int8_t *w, int32_t depth, int32_t quads,
                        int32_t off2, int32_t *a)
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
#endif

/* acc + sum over d < n of w[d] * (in[d] + off), for one unit. */
static int32_t dot_1_unit(const int8_t *in, const int8_t *w, int32_t n, int32_t off,
                          int32_t acc)
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

te_status te_fully_connected_s8(const te_fc_params *params, const te_requant *quant,
                                const te_dims *input_dims, const int8_t *input,
                                const te_dims *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const te_dims *output_dims, int8_t *output)
{
    int32_t batches, units, depth, b, u, k, d;

    if (params == NULL || quant == NULL || input_dims == NULL || input == NULL ||
        filter_dims == NULL || filter == NULL || output_dims == NULL || output == NULL ||
        quant->multipliers == NULL || quant->shifts == NULL) {
        return TE_ARG_ERROR;
    }
    batches = input_dims->n;
    depth = input_dims->c;
    units = filter_dims->n;
    if (batches < 1 || depth < 1 || units < 1 ||
        input_dims->h != 1 || input_dims->w != 1 ||
        filter_dims->h != 1 || filter_dims->w != 1 || filter_dims->c != depth ||
        output_dims->n != batches || output_dims->h != 1 || output_dims->w != 1 ||
        output_dims->c != units) {
        return TE_ARG_ERROR;
    }
    if ((quant->count != 1 && quant->count != units) ||
        (quant->count != 1 && params->filter_offset != 0)) {
        return TE_ARG_ERROR;
    }
    if (params->input_offset < -127 || params->input_offset > 128 ||
        params->filter_offset < -127 || params->filter_offset > 128 ||
        params->output_offset < -128 || params->output_offset > 127 ||
        params->activation_min < -128 || params->activation_max > 127 ||
        params->activation_min > params->activation_max) {
        return TE_ARG_ERROR;
    }

    for (b = 0; b < batches; b++) {
        const int8_t *in_row = input + b * depth;
        int8_t *out_row = output + b * units;
        const int32_t off = params->input_offset, quads = depth / 4;
        const int32_t step = quant->count != 1;
        /* f_off * sum (in + off): the filter offset's share of every unit */
        int32_t filter_offset_term = 0;
        if (params->filter_offset != 0) {
            int32_t input_sum = 0;
            for (d = 0; d < depth; d++) {
                input_sum = te_dsp_wadd(input_sum, in_row[d] + off);
            }
            filter_offset_term = te_dsp_wmul(params->filter_offset, input_sum);
        }
        for (u = 0; u < units;) {
            const int32_t n = units - u >= 4 ? 4 : 1;
            int32_t acc[4];
            for (k = 0; k < n; k++) {
                acc[k] = te_dsp_wadd(bias != NULL ? bias[u + k] : 0, filter_offset_term);
            }
            if (n == 4) {
                dot_4_units(in_row, filter + u * depth, depth, quads, te_dsp_dup16(off), acc);
                for (k = 0; k < 4 && depth > 4 * quads; k++) {
                    acc[k] = dot_1_unit(in_row + 4 * quads, filter + (u + k) * depth + 4 * quads,
                                        depth - 4 * quads, off, acc[k]);
                }
            } else {
                acc[0] = dot_1_unit(in_row, filter + u * depth, depth, off, acc[0]);
            }
            for (k = 0; k < n; k++, u++) {
                const int32_t r = te_dsp_mbqm(acc[k], quant->multipliers[step * u],
                                              quant->shifts[step * u]);
                out_row[u] = (int8_t)te_clamp_s32(te_add_wrap_s32(r, params->output_offset),
                                                  params->activation_min, params->activation_max);
            }
        }
    }
    return TE_OK;
}
