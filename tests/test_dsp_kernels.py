"""The ARMv7E-M DSP kernels (kernels/src/armv7em/) agree with the reference kernels
(kernels/src/ref/) byte for byte on randomized cases, run on an emulated Cortex-M4 and
Cortex-M7 (QEMU mps2-an386 / mps2-an500): one firmware links both versions (the reference
built with its te_ functions renamed ref_te_...) and a harness that draws shapes (odd channel
and pixel counts, padding, strides, dilation, groups, depth multipliers), per-tensor and
per-channel requantization, offsets including 128 and -127, NULL and wrapping biases, and
compares every output byte plus a guard band after the output, also with the output placed
over the input as far as the memory planner allows (planner/overlap.py)."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tinyedge import KERNELS_DIR, __version__
from tinyedge.codegen import template_environment
from tinyedge.firmware import BOARDS, BUILD_FLAGS, WARNING_FLAGS
from tinyedge.targets import get_target

TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")

ALL_KERNELS = {"conv": ("conv2d_s8.c", "te_conv2d_s8"),
               "depthwise": ("depthwise_conv2d_s8.c", "te_depthwise_conv2d_s8"),
               "fc": ("fully_connected_s8.c", "te_fully_connected_s8"),
               "lstm": ("lstm_s8_s16.c", "te_lstm_s8_s16"),
               "svdf": ("svdf_s8.c", "te_svdf_s8_s16")}
# Other functions a kernel's reference file defines, renamed with it.
ALSO_DEFINED = {"lstm": ("te_sigmoid_s16", "te_tanh_s16"), "svdf": ("te_svdf_s8_s8",)}
# The kernels that have an ARMv7E-M variant.
KERNELS = ALL_KERNELS
CASES = 400

# C shared by the emulator harnesses (this file and test_dsp_elementwise.py): a seeded
# xorshift generator (the harness defines rng_state), uniform ranges, number printing.
C_HELPERS = r"""static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* uniform in [lo, hi] */
static int32_t range(int32_t lo, int32_t hi)
{
    return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static void put_num(int32_t v)
{
    char text[16];
    int i = 15;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    text[i] = 0;
    do {
        text[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0) {
        text[--i] = '-';
    }
    te_write(text + i);
    te_write(" ");
}
"""

HARNESS = r"""/* Randomized comparison of the ARMv7E-M DSP kernels (kernels/src/armv7em/)
 * with the reference kernels (kernels/src/ref/, built with every te_ kernel
 * renamed ref_te_...), run as firmware under QEMU by tests/test_dsp_kernels.py.
 * Prints one line per differing case and
 * "TE_DSP_DONE <cases> <failures> <outputs not clamped> <outputs>". */
#include <stdint.h>
#include <string.h>

#include "te_firmware.h"
#include "tinyedge/te_kernels.h"

te_status ref_te_conv2d_s8(const te_conv_params *, const te_requant *, const te_dims *,
                           const int8_t *, const te_dims *, const int8_t *, const int32_t *,
                           const te_dims *, int8_t *);
te_status ref_te_depthwise_conv2d_s8(const te_conv_params *, const te_requant *,
                                     const te_dims *, const int8_t *, const te_dims *,
                                     const int8_t *, const int32_t *, const te_dims *, int8_t *);
te_status ref_te_fully_connected_s8(const te_fc_params *, const te_requant *, const te_dims *,
                                    const int8_t *, const te_dims *, const int8_t *,
                                    const int32_t *, const te_dims *, int8_t *);
te_status ref_te_lstm_s8_s16(const te_lstm_params *, int16_t *, const int8_t *,
                             const int8_t *const[8], int8_t *, int16_t *, int8_t *);
te_status ref_te_svdf_s8_s16(const te_svdf_params *, const int8_t *, const int8_t *,
                             const int16_t *, const int32_t *, int16_t *, int8_t *);
te_status ref_te_svdf_s8_s8(const te_svdf_params *, const int8_t *, const int8_t *,
                            const int8_t *, const int32_t *, int8_t *, int8_t *);

#define MAX_IN (2 * 24 * 24 * 72)
#define MAX_FILTER (24 * 5 * 5 * 72)
#define MAX_OUT (2 * 14 * 14 * 72)
#define MAX_CH 520
#define GUARD 64

/* the kernels with filters and te_requant (the LSTM case uses less) */
#define TE_DSP_FILTERED (TE_DSP_CONV || TE_DSP_DEPTHWISE || TE_DSP_FC)

static int8_t in_buf[MAX_IN];
static int8_t out_ref[MAX_OUT + GUARD];
static int8_t out_opt[MAX_OUT + GUARD];
#if TE_DSP_FILTERED
/* word-aligned, as the weights tinyedge emits are (LDM reads them) */
static int8_t filter_buf[MAX_FILTER] __attribute__((aligned(4)));
static int32_t bias_buf[MAX_CH];
static int32_t mult_buf[MAX_CH];
static int8_t shift_buf[MAX_CH];
static int8_t shared_ref[MAX_IN + MAX_OUT + GUARD];
static int8_t shared_opt[MAX_IN + MAX_OUT + GUARD];
#endif

static uint32_t rng_state = TE_DSP_SEED;

/* C_HELPERS */

static void fill(int8_t *p, int32_t n)
{
    int32_t i;
    const int mode = (int)range(0, 5);
    for (i = 0; i < n; i++) {
        p[i] = (int8_t)(mode == 0 ? (range(0, 1) ? -128 : 127) : range(-128, 127));
    }
}

/* Half the bits of n, rounded up: log2 of the typical size of a sum of n
 * random products relative to one product. */
static int32_t half_log2(int32_t n)
{
    int32_t bits = 0;
    while ((1 << bits) < n) {
        bits++;
    }
    return (bits + 1) / 2;
}

#if TE_DSP_FILTERED
/* Per-channel requantization for outputs that sum `depth` products. Three
 * channels in four are "tame": shift and bias scaled to depth so that most
 * outputs land inside the clamp range, where an arithmetic slip shows; the
 * rest draw from the whole range (saturation, wrapping biases, odd shifts). */
static void fill_quant(te_requant *quant, int32_t channels, int32_t depth, int32_t *bias_out_null)
{
    int32_t i;
    quant->count = range(0, 1) ? 1 : channels;
    for (i = 0; i < channels; i++) {
        const int tame = range(0, 3) != 0;
        mult_buf[i] = range(0, 15) == 0 ? 0 : (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
        if (range(0, 63) == 0) {
            /* outside TFLite's range, but te_dsp_mbqm claims te_mbqm's result for any
             * multiplier, INT32_MIN (te_srdhm's saturating case) included */
            mult_buf[i] = range(0, 1) ? INT32_MIN : -(int32_t)(rnd() & 0x7fffffffu);
        }
        shift_buf[i] = range(0, 7) == 0 ? range(-31, 30) : range(-12, 1);
        if (tame) {
            /* a sum of depth products of ~74 x ~128 is ~2^13 x sqrt(depth) */
            shift_buf[i] = -(8 + half_log2(depth)) + range(-1, 0);
            bias_buf[i] = range(-(32 << -shift_buf[i]), 32 << -shift_buf[i]);
            continue;
        }
        switch (range(0, 5)) {
        case 0: bias_buf[i] = (int32_t)rnd(); break; /* wraps the accumulator */
        case 1: bias_buf[i] = INT32_MAX - range(0, 3000); break;
        default: bias_buf[i] = range(-40000, 40000); break;
        }
    }
    quant->multipliers = mult_buf;
    quant->shifts = shift_buf;
    *bias_out_null = range(0, 4) == 0;
}

static int32_t pick_input_offset(void)
{
    switch (range(0, 4)) {
    case 0: return 128;
    case 1: return -127;
    case 2: return 0;
    default: return range(-127, 128);
    }
}

static void pick_activation(int32_t *lo, int32_t *hi, int32_t *out_off)
{
    *out_off = range(0, 3) != 0 ? range(-40, 40) : range(-128, 127);
    if (range(0, 3) != 0) {
        *lo = -128;
        *hi = 127;
    } else {
        *lo = range(-128, 127);
        *hi = range(*lo, 127);
    }
}
#endif

static int32_t failures;
static int32_t outputs, outputs_inside; /* reference outputs, and those not clamped */

static void count_inside(int32_t n, int32_t lo, int32_t hi)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        outputs_inside += out_ref[i] > lo && out_ref[i] < hi;
    }
    outputs += n;
}

#if TE_DSP_FILTERED
/* Runs ref (via a stub taking input and output) and opt with the output
 * placed `limit` bytes from the input's start in one shared buffer (limit is
 * the largest the memory planner allows, tinyedge/planner/overlap.py), then
 * copies both outputs, guard band included, to out_ref and out_opt. */
typedef te_status (*overlap_fn)(int use_ref, const int8_t *input, int8_t *output);

static int overlapped(overlap_fn run, int32_t limit, int32_t n_in, int32_t n_out,
                      te_status *a, te_status *b)
{
    const int32_t in_pos = limit < 0 ? -limit : 0;
    if (limit >= n_in) {
        return 0; /* no overlap to check */
    }
    memset(shared_ref, 0x5a, sizeof shared_ref);
    memcpy(shared_ref + in_pos, in_buf, (size_t)n_in);
    memcpy(shared_opt, shared_ref, sizeof shared_opt);
    *a = run(1, shared_ref + in_pos, shared_ref + in_pos + limit);
    *b = run(0, shared_opt + in_pos, shared_opt + in_pos + limit);
    memcpy(out_ref, shared_ref + in_pos + limit, (size_t)(n_out + GUARD));
    memcpy(out_opt, shared_opt + in_pos + limit, (size_t)(n_out + GUARD));
    return 1;
}
#endif

#if TE_DSP_FC
/* overlap.py's rows_limit: min over rows b of b * depth - (b + 1) * units. */
static int32_t rows_limit(int32_t rows, int32_t depth, int32_t units)
{
    int32_t limit = -units, b;
    for (b = 1; b < rows; b++) {
        if (b * depth - (b + 1) * units < limit) {
            limit = b * depth - (b + 1) * units;
        }
    }
    return limit;
}
#endif

#if TE_DSP_CONV || TE_DSP_DEPTHWISE
/* The first input row (or column) inside the image of a window, -1 if none. */
static int32_t first_tap(int32_t origin, int32_t dilation, int32_t size, int32_t taps)
{
    const int32_t steps = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
    const int32_t first = origin + steps * dilation;
    return steps < taps && first < size ? first : -1;
}

/* overlap.py's window_limit: min over output pixels k of (lowest input byte
 * read by pixel k or a later one) - (end of pixel k's output bytes). */
static int32_t window_limit(const te_dims *in, const te_dims *out, int32_t k_h, int32_t k_w,
                            const te_conv_params *p)
{
    int32_t limit = INT32_MAX, still_needed = INT32_MAX, k;
    for (k = out->n * out->h * out->w - 1; k >= 0; k--) {
        const int32_t batch = k / (out->h * out->w);
        const int32_t oy = (k / out->w) % out->h, ox = k % out->w;
        const int32_t y = first_tap(oy * p->stride_h - p->pad_h, p->dilation_h, in->h, k_h);
        const int32_t x = first_tap(ox * p->stride_w - p->pad_w, p->dilation_w, in->w, k_w);
        if (y >= 0 && x >= 0) {
            const int32_t lowest = ((batch * in->h + y) * in->w + x) * in->c;
            still_needed = still_needed < lowest ? still_needed : lowest;
        }
        if (still_needed != INT32_MAX && still_needed - (k + 1) * out->c < limit) {
            limit = still_needed - (k + 1) * out->c;
        }
    }
    return limit == INT32_MAX ? MAX_IN : limit;
}
#endif

static void compare(const char *kernel, int32_t index, te_status a, te_status b, int32_t n)
{
    if (a != b || memcmp(out_ref, out_opt, (size_t)(n + GUARD)) != 0) {
        int32_t i = 0;
        while (i < n + GUARD && out_ref[i] == out_opt[i]) {
            i++;
        }
        te_write("TE_DSP_MISMATCH ");
        te_write(kernel);
        te_write(" ");
        put_num(index);
        put_num(a);
        put_num(b);
        put_num(i);
        te_write("\n");
        failures++;
    }
}

#if TE_DSP_CONV
static te_conv_params conv_p;
static te_requant conv_quant;
static te_dims conv_in, conv_f, conv_out;
static const int32_t *conv_bias;
static const int8_t *conv_filter;
static int8_t pairs_buf[MAX_FILTER] __attribute__((aligned(4)));
static int32_t paired_cases; /* cases the DSP kernel took in pairs */

static te_status conv_overlap(int use_ref, const int8_t *input, int8_t *output)
{
    return (use_ref ? ref_te_conv2d_s8 : te_conv2d_s8)(
        &conv_p, &conv_quant, &conv_in, input, &conv_f, conv_filter, conv_bias, &conv_out,
        output);
}

/* filter_buf's cout filters of k bytes in TE_CONV_FILTER_PAIRS order, into
 * pairs_buf (te_types.h) */
static void pair_filters(int32_t cout, int32_t k)
{
    int32_t oc, i;
    for (oc = 0; oc < cout; oc++) {
        for (i = 0; i < k; i++) {
            pairs_buf[(oc / 2) * 2 * k + (i / 4) * 8 + (oc % 2) * 4 + i % 4] =
                filter_buf[oc * k + i];
        }
    }
}

/* Whether the DSP kernel takes this layer in pairs (takes_paired): a bias,
 * k up to 288, and every channel's requantization in te_dsp_rq_init's form */
static int takes_pairs(const te_requant *quant, int32_t k, int has_bias)
{
    int32_t i;
    if (!has_bias || k > 288 || quant->count > 256) {
        return 0;
    }
    for (i = 0; i < quant->count; i++) {
        const int32_t m = quant->multipliers[i], s = quant->shifts[i];
        if (m < 0 || (s >= 0 && m != 0)) {
            return 0;
        }
    }
    return 1;
}

/* The layer again with its filters in pairs: the reference's outputs, now in
 * out_ref, are what both kernels must give (the DSP kernel declines what its
 * paired path does not take with TE_ARG_ERROR), also over the input. */
static void conv_pairs_case(int32_t index, te_status in_rows, int32_t n_in, int32_t n_out)
{
    te_conv_params p = conv_p;
    const int32_t k = conv_f.h * conv_f.w * conv_f.c;
    te_status a, b;
    p.filter_layout = TE_CONV_FILTER_PAIRS;
    pair_filters(conv_out.c, k);
    memset(out_opt, 0x5a, sizeof out_opt);
    a = ref_te_conv2d_s8(&p, &conv_quant, &conv_in, in_buf, &conv_f, pairs_buf, conv_bias,
                         &conv_out, out_opt);
    compare("conv2d_pairs_ref", index, in_rows, a, n_out);
    if (in_rows != TE_OK) {
        return;
    }
    if (TE_DSP_MVE || !takes_pairs(&conv_quant, k, conv_bias != 0)) {
        /* the Helium kernel reads no pairs */
        b = te_conv2d_s8(&p, &conv_quant, &conv_in, in_buf, &conv_f, pairs_buf, conv_bias,
                         &conv_out, out_opt);
        if (b != TE_ARG_ERROR) {
            te_write("conv2d_pairs_declined ");
            put_num(index);
            te_write("\n");
            failures++;
        }
        return;
    }
    memset(out_opt, 0x5a, sizeof out_opt);
    b = te_conv2d_s8(&p, &conv_quant, &conv_in, in_buf, &conv_f, pairs_buf, conv_bias,
                     &conv_out, out_opt);
    compare("conv2d_pairs", index, TE_OK, b, n_out);
    paired_cases++;
    conv_p = p;
    conv_filter = pairs_buf;
    if (overlapped(conv_overlap, window_limit(&conv_in, &conv_out, conv_f.h, conv_f.w, &p),
                   n_in, n_out, &a, &b)) {
        compare("conv2d_pairs_overlapped", index, a, b, n_out);
    }
}

static void conv_case(int32_t index)
{
    te_conv_params p;
    te_requant quant;
    te_dims in, f, out;
    int32_t groups, cout, bias_null, n_in, n_f, n_out, eff_h, eff_w;
    te_status a, b;
    const int pointwise = range(0, 2) == 0;
    memset(&p, 0, sizeof p);
    in.n = range(0, 5) == 0 ? 2 : 1;
    in.h = range(1, 9);
    in.w = range(1, 9);
    groups = range(0, 5) == 0 && !pointwise ? range(2, 3) : 1;
    in.c = groups * (range(0, 3) == 0 ? range(8, 24) : range(1, 12));
    if (range(0, 3) == 0 && groups == 1) {
        in.c = range(32, 72);
    }
    if (range(0, 15) == 0 && groups == 1) {
        /* a window longer than the DSP kernel's column buffer (TE_DSP_MAX_K) */
        in.h = range(1, 3);
        in.w = range(1, 3);
        in.c = range(577, 700);
    }
    if (pointwise && groups == 1 && range(0, 2) == 0) {
        /* multiples of 16 up to 208: six-pixel blocks (conv_six, up to 288) */
        in.c = 16 * range(1, 13);
    }
    f.c = in.c / groups;
    cout = groups * range(1, 24 / groups);
    if (range(0, 7) == 0 && groups == 1) {
        cout = range(25, 99);
    }
    if (range(0, 11) == 0 && groups == 1) {
        /* more channels than the DSP kernel's requantization table holds */
        cout = range(257, 330);
    }
    f.n = cout;
    if (pointwise) {
        f.h = f.w = 1;
        p.stride_h = p.stride_w = 1;
        p.dilation_h = p.dilation_w = 1;
        out.h = in.h;
        out.w = in.w;
    } else {
        f.h = range(1, 5);
        f.w = range(1, 5);
        if (groups == 1 && in.c <= 3 && range(0, 1)) {
            /* a first layer: few channels, a tall window (KWS: 10x4, stride 2) */
            f.h = range(3, 10);
            in.h = range(1, 12);
        }
        p.stride_h = range(1, 3);
        p.stride_w = range(1, 3);
        p.dilation_h = range(0, 4) == 0 ? 2 : 1;
        p.dilation_w = range(0, 4) == 0 ? 2 : 1;
        p.pad_h = range(0, f.h - 1);
        p.pad_w = range(0, f.w - 1);
        eff_h = (f.h - 1) * p.dilation_h + 1;
        eff_w = (f.w - 1) * p.dilation_w + 1;
        out.h = (in.h + 2 * p.pad_h - eff_h) / p.stride_h + 1;
        out.w = (in.w + 2 * p.pad_w - eff_w) / p.stride_w + 1;
        if (out.h < 1 || range(0, 7) == 0) {
            out.h = range(1, 6);
        }
        if (out.w < 1 || range(0, 7) == 0) {
            out.w = range(1, 6);
        }
    }
    out.n = in.n;
    out.c = cout;
    p.input_offset = pick_input_offset();
    pick_activation(&p.activation_min, &p.activation_max, &p.output_offset);
    n_in = in.n * in.h * in.w * in.c;
    n_f = f.n * f.h * f.w * f.c;
    n_out = out.n * out.h * out.w * out.c;
    if (n_in > MAX_IN || n_f > MAX_FILTER || n_out > MAX_OUT) {
        return;
    }
    fill(in_buf, n_in);
    fill(filter_buf, n_f);
    fill_quant(&quant, cout, f.h * f.w * f.c, &bias_null);
    if (cout > 256 && range(0, 1)) {
        /* TFLite's own scales only, so that whole chunks of 64 channels take
         * the DSP kernel's asm loop */
        int32_t i;
        for (i = 0; i < cout; i++) {
            mult_buf[i] = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
            shift_buf[i] = range(-12, -1);
        }
        quant.count = cout;
        bias_null = 0;
    }
    memset(out_ref, 0x5a, sizeof out_ref);
    memset(out_opt, 0x5a, sizeof out_opt);
    a = ref_te_conv2d_s8(&p, &quant, &in, in_buf, &f, filter_buf, bias_null ? 0 : bias_buf,
                         &out, out_ref);
    b = te_conv2d_s8(&p, &quant, &in, in_buf, &f, filter_buf, bias_null ? 0 : bias_buf,
                     &out, out_opt);
    compare("conv2d", index, a, b, n_out);
    count_inside(n_out, p.activation_min, p.activation_max);
    conv_p = p;
    conv_quant = quant;
    conv_in = in;
    conv_f = f;
    conv_out = out;
    conv_bias = bias_null ? 0 : bias_buf;
    conv_filter = filter_buf;
    if (overlapped(conv_overlap, window_limit(&in, &out, f.h, f.w, &p), n_in, n_out, &a, &b)) {
        compare("conv2d_overlapped", index, a, b, n_out);
    }
    if (groups == 1 && cout % 2 == 0 && (f.h * f.w * f.c) % 4 == 0) {
        /* out_ref again: the overlapped run left its own outputs there */
        memset(out_ref, 0x5a, sizeof out_ref);
        a = ref_te_conv2d_s8(&p, &quant, &in, in_buf, &f, filter_buf, conv_bias, &out, out_ref);
        conv_pairs_case(index, a, n_in, n_out);
    }
}
#endif

#if TE_DSP_DEPTHWISE
static te_conv_params dw_p;
static te_requant dw_quant;
static te_dims dw_in, dw_f, dw_out;
static const int32_t *dw_bias;

static te_status depthwise_overlap(int use_ref, const int8_t *input, int8_t *output)
{
    return (use_ref ? ref_te_depthwise_conv2d_s8 : te_depthwise_conv2d_s8)(
        &dw_p, &dw_quant, &dw_in, input, &dw_f, filter_buf, dw_bias, &dw_out, output);
}

static void depthwise_case(int32_t index)
{
    te_conv_params p;
    te_requant quant;
    te_dims in, f, out;
    int32_t bias_null, n_in, n_f, n_out, eff_h, eff_w;
    te_status a, b;
    memset(&p, 0, sizeof p);
    in.n = range(0, 5) == 0 ? 2 : 1;
    in.h = range(1, 10);
    in.w = range(1, 10);
    in.c = range(0, 2) == 0 ? range(1, 8) : range(8, 40);
    p.depth_multiplier = range(0, 3) == 0 ? range(2, 3) : 1;
    if (range(0, 39) == 0) {
        /* more channels than the DSP kernel keeps on its stack */
        in.h = range(1, 4);
        in.w = range(1, 4);
        in.c = range(509, 520);
        p.depth_multiplier = 1;
    }
    f.n = 1;
    f.c = in.c * p.depth_multiplier;
    if (range(0, 1)) {
        f.h = f.w = 3;
    } else {
        f.h = range(1, 5);
        f.w = range(1, 5);
    }
    p.stride_h = range(1, 2);
    p.stride_w = range(1, 2);
    p.dilation_h = range(0, 5) == 0 ? 2 : 1;
    p.dilation_w = range(0, 5) == 0 ? 2 : 1;
    p.pad_h = range(0, f.h - 1);
    p.pad_w = range(0, f.w - 1);
    if (range(0, 2) == 0) {
        /* the DSP kernel's band and plane paths (3x3, strides 1 and 2): the
         * sizes below are of the output, the input's scaled by the strides */
        const int32_t s_h = range(1, 2), s_w = range(1, 2);
        switch (range(0, 4)) {
        case 3:
            /* wide rows of too many channels for a band of all of them, in
             * images too big for one channel's plane: planes in bands of rows */
            in.h = range(12, 14);
            in.w = range(28, 30);
            in.c = range(42, 48);
            break;
        case 0:
            /* tall images of narrow rows: planes, transposed or not */
            in.h = range(1, 30);
            in.w = range(1, 7);
            in.c = range(1, 40);
            break;
        case 1:
            /* rows of 8 or more, with more channels than a band holds: planes */
            in.h = range(1, 3);
            in.w = range(9, 11);
            in.c = range(300, 400);
            break;
        default:
            /* rows of 8 or more: bands (of a few rows when there are many
             * channels) */
            in.h = range(1, 12);
            in.w = range(6, 12);
            in.c = range(1, 72);
            break;
        }
        in.h = (in.h - 1) * s_h + 1;
        in.w = (in.w - 1) * s_w + 1;
        if (s_h * s_w > 1 && range(0, 1)) {
            in.c = (in.c + 1) / 2; /* fewer skipped as too big */
        }
        p.depth_multiplier = 1;
        f.c = in.c;
        f.h = f.w = 3;
        p.stride_h = s_h;
        p.stride_w = s_w;
        p.dilation_h = p.dilation_w = 1;
        p.pad_h = range(0, 2);
        p.pad_w = range(1, 2);
    }
    eff_h = (f.h - 1) * p.dilation_h + 1;
    eff_w = (f.w - 1) * p.dilation_w + 1;
    out.h = (in.h + 2 * p.pad_h - eff_h) / p.stride_h + 1;
    out.w = (in.w + 2 * p.pad_w - eff_w) / p.stride_w + 1;
    if (out.h < 1 || range(0, 7) == 0) {
        out.h = range(1, 6);
    }
    if (out.w < 1 || range(0, 7) == 0) {
        out.w = range(1, 6);
    }
    out.n = in.n;
    out.c = f.c;
    p.input_offset = pick_input_offset();
    pick_activation(&p.activation_min, &p.activation_max, &p.output_offset);
    n_in = in.n * in.h * in.w * in.c;
    n_f = f.h * f.w * f.c;
    n_out = out.n * out.h * out.w * out.c;
    if (n_in > MAX_IN || n_f > MAX_FILTER || n_out > MAX_OUT || f.c > MAX_CH) {
        return;
    }
    fill(in_buf, n_in);
    fill(filter_buf, n_f);
    fill_quant(&quant, f.c, f.h * f.w, &bias_null);
    memset(out_ref, 0x5a, sizeof out_ref);
    memset(out_opt, 0x5a, sizeof out_opt);
    a = ref_te_depthwise_conv2d_s8(&p, &quant, &in, in_buf, &f, filter_buf,
                                   bias_null ? 0 : bias_buf, &out, out_ref);
    b = te_depthwise_conv2d_s8(&p, &quant, &in, in_buf, &f, filter_buf,
                               bias_null ? 0 : bias_buf, &out, out_opt);
    compare("depthwise", index, a, b, n_out);
    count_inside(n_out, p.activation_min, p.activation_max);
    dw_p = p;
    dw_quant = quant;
    dw_in = in;
    dw_f = f;
    dw_out = out;
    dw_bias = bias_null ? 0 : bias_buf;
    if (overlapped(depthwise_overlap, window_limit(&in, &out, f.h, f.w, &p), n_in, n_out,
                   &a, &b)) {
        compare("depthwise_overlapped", index, a, b, n_out);
    }
    /* one byte further: no longer a whole number of pixels from the input,
     * which the plane path declines */
    if (overlapped(depthwise_overlap, window_limit(&in, &out, f.h, f.w, &p) - 1, n_in, n_out,
                   &a, &b)) {
        compare("depthwise_overlapped_by_a_byte_more", index, a, b, n_out);
    }
}
#endif

#if TE_DSP_FC
static te_fc_params fc_p;
static te_requant fc_quant;
static te_dims fc_in, fc_f, fc_out;
static const int32_t *fc_bias;
static const int8_t *fc_filter;

static te_status fc_overlap(int use_ref, const int8_t *input, int8_t *output)
{
    return (use_ref ? ref_te_fully_connected_s8 : te_fully_connected_s8)(
        &fc_p, &fc_quant, &fc_in, input, &fc_f, fc_filter, fc_bias, &fc_out, output);
}

static void fc_case(int32_t index)
{
    te_fc_params p;
    te_requant quant;
    te_dims in, f, out;
    int8_t *filt;
    int32_t bias_null, depth, units, n_out;
    te_status a, b;
    depth = range(0, 2) == 0 ? range(1, 9) : range(10, 300);
    units = range(1, 40);
    in.n = range(0, 3) == 0 ? range(2, 4) : 1;
    in.h = in.w = 1;
    in.c = depth;
    f.n = units;
    f.h = f.w = 1;
    f.c = depth;
    out.n = in.n;
    out.h = out.w = 1;
    out.c = units;
    if (in.n * depth > MAX_IN || units * depth + 3 > MAX_FILTER) {
        return;
    }
    /* both layouts; the interleaved one (what tinyedge emits) mostly aligned,
     * sometimes not (the C loop instead of LDM), and mostly without an input
     * offset (folded by tinyedge: the asm loop) */
    p.filter_layout = range(0, 2) == 0 ? TE_FC_ROWS : TE_FC_QUAD_ROWS;
    filt = filter_buf + (p.filter_layout == TE_FC_QUAD_ROWS && range(0, 4) == 0
                         ? range(1, 3) : 0);
    p.input_offset = p.filter_layout == TE_FC_QUAD_ROWS && range(0, 2) != 0
                     ? 0 : pick_input_offset();
    if (TE_DSP_MVE) {
        /* what tinyedge emits for the Helium kernel: rows, mostly without an
         * input offset */
        p.filter_layout = range(0, 4) == 0 ? TE_FC_QUAD_ROWS : TE_FC_ROWS;
        p.input_offset = range(0, 2) != 0 ? 0 : pick_input_offset();
    }
    pick_activation(&p.activation_min, &p.activation_max, &p.output_offset);
    fill(in_buf, in.n * depth);
    fill(filt, units * depth);
    fill_quant(&quant, units, depth, &bias_null);
    p.filter_offset = quant.count == 1 && range(0, 1) ? pick_input_offset() : 0;
    n_out = in.n * units;
    memset(out_ref, 0x5a, sizeof out_ref);
    memset(out_opt, 0x5a, sizeof out_opt);
    a = ref_te_fully_connected_s8(&p, &quant, &in, in_buf, &f, filt,
                                  bias_null ? 0 : bias_buf, &out, out_ref);
    b = te_fully_connected_s8(&p, &quant, &in, in_buf, &f, filt,
                              bias_null ? 0 : bias_buf, &out, out_opt);
    compare("fully_connected", index, a, b, n_out);
    count_inside(n_out, p.activation_min, p.activation_max);
    fc_p = p;
    fc_quant = quant;
    fc_in = in;
    fc_f = f;
    fc_out = out;
    fc_bias = bias_null ? 0 : bias_buf;
    fc_filter = filt;
    if (overlapped(fc_overlap, rows_limit(in.n, depth, units), in.n * depth, n_out, &a, &b)) {
        compare("fully_connected_overlapped", index, a, b, n_out);
    }
}
#endif

#if TE_DSP_LSTM || TE_DSP_SVDF
/* compare() on n bytes of the reference's and the variant's own buffers */
static void compare_buffers(const char *what, int32_t index, te_status a, te_status b,
                            const void *ref, const void *opt, int32_t n)
{
    memset(out_ref, 0x5a, sizeof out_ref);
    memset(out_opt, 0x5a, sizeof out_opt);
    memcpy(out_ref, ref, (size_t)n);
    memcpy(out_opt, opt, (size_t)n);
    compare(what, index, a, b, n);
}
#endif

#if TE_DSP_LSTM
#define LSTM_MAX_UNITS 40
#define LSTM_MAX_INPUT 70
#define LSTM_MAX_ROWS 12 /* batches x time steps */

/* word-aligned, as the weights tinyedge emits are (LDM reads them) */
static int8_t lstm_weights[8][LSTM_MAX_UNITS * LSTM_MAX_INPUT] __attribute__((aligned(4)));
static int32_t lstm_bias[8 * LSTM_MAX_UNITS];
static int8_t lstm_hidden[2][2 * LSTM_MAX_UNITS];
static int16_t lstm_cell[2][2 * LSTM_MAX_UNITS];
static int16_t lstm_scratch[3 * LSTM_MAX_UNITS];
static int8_t lstm_out[2][LSTM_MAX_ROWS * LSTM_MAX_UNITS];

/* A random LSTM over a short sequence (odd sizes, so that the 4-unit blocks
 * and the 4-value groups both have remainders), scaled so that most gate
 * sums land in the sigmoid's working range and most hidden values inside
 * int8; its outputs, hidden and cell state compared. */
static void lstm_case(int32_t index)
{
    te_lstm_params p;
    const int8_t *w[8];
    int32_t g, i, rows, n_out;
    te_status a, b;
    memset(&p, 0, sizeof p);
    p.batches = range(1, 2);
    p.time_steps = range(1, 6);
    p.input_size = range(0, 3) == 0 ? range(1, 7) : range(8, LSTM_MAX_INPUT);
    p.units = range(0, 3) == 0 ? range(1, 5) : range(6, LSTM_MAX_UNITS);
    p.time_major = range(0, 1);
    p.hidden_zero_point = range(-20, 20);
    for (g = 0; g < 4; g++) {
        p.input_multiplier[g] = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
        p.input_shift[g] = -2 - half_log2(p.input_size) + range(-2, 1);
        p.recurrent_multiplier[g] = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
        p.recurrent_shift[g] = -2 - half_log2(p.units) + range(-2, 1);
    }
    p.forget_cell_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
    p.forget_cell_shift = -15 + range(-1, 0);
    p.input_cell_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
    p.input_cell_shift = -15 + range(-4, 0);
    p.hidden_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
    p.hidden_shift = -23 + range(-1, 1);
    p.cell_clip = range(0, 2) == 0 ? range(1, 32767) : 0;
    p.cell_tanh_multiplier = 3 << range(0, 3);
    p.cell_tanh_shift = 0;
    p.cell_gate_sigmoid = range(0, 4) == 0;
    p.weight_layout = range(0, 1) ? TE_FC_QUAD_ROWS : TE_FC_ROWS;
    rows = p.batches * p.time_steps;
    for (g = 0; g < 8; g++) {
        fill(lstm_weights[g], p.units * (g < 4 ? p.input_size : p.units));
        w[g] = lstm_weights[g];
    }
    for (i = 0; i < 8 * p.units; i++) {
        lstm_bias[i] = range(0, 7) == 0 ? (int32_t)rnd() : range(-40000, 40000);
    }
    p.bias = lstm_bias;
    fill(in_buf, rows * p.input_size);
    fill(lstm_hidden[0], p.batches * p.units);
    for (i = 0; i < p.batches * p.units; i++) {
        lstm_cell[0][i] = (int16_t)range(-32768, 32767);
    }
    memcpy(lstm_hidden[1], lstm_hidden[0], sizeof lstm_hidden[0]);
    memcpy(lstm_cell[1], lstm_cell[0], sizeof lstm_cell[0]);
    n_out = rows * p.units;
    memset(lstm_out, 0x5a, sizeof lstm_out);
    a = ref_te_lstm_s8_s16(&p, lstm_scratch, in_buf, w, lstm_hidden[0], lstm_cell[0],
                           lstm_out[0]);
    b = te_lstm_s8_s16(&p, lstm_scratch, in_buf, w, lstm_hidden[1], lstm_cell[1],
                       lstm_out[1]);
    compare_buffers("lstm", index, a, b, lstm_out[0], lstm_out[1], n_out);
    count_inside(n_out, -128, 127);
    compare_buffers("lstm_hidden", index, TE_OK, TE_OK, lstm_hidden[0], lstm_hidden[1],
                    (int32_t)sizeof lstm_hidden[0]);
    compare_buffers("lstm_cell", index, TE_OK, TE_OK, lstm_cell[0], lstm_cell[1],
                    (int32_t)sizeof lstm_cell[0]);
}
#endif

#if TE_DSP_SVDF
#define SVDF_MAX_FILTERS 36
#define SVDF_MAX_INPUT 70
#define SVDF_MAX_MEMORY 13

static int8_t svdf_wf[SVDF_MAX_FILTERS * SVDF_MAX_INPUT];
static int16_t svdf_wt[SVDF_MAX_FILTERS * SVDF_MAX_MEMORY];
static int32_t svdf_fbias[SVDF_MAX_FILTERS];
static int32_t svdf_bias[SVDF_MAX_FILTERS];
static int16_t svdf_state[2][2 * SVDF_MAX_FILTERS * SVDF_MAX_MEMORY];
static int8_t svdf_out[2][2 * SVDF_MAX_FILTERS];

/* n values in [-3, 3] (precise) or fill's */
static void fill_svdf(int8_t *v, int32_t n, int precise)
{
    int32_t i;
    if (!precise) {
        fill(v, n);
        return;
    }
    for (i = 0; i < n; i++) {
        v[i] = (int8_t)range(-3, 3);
    }
}

/* A random SVDF, int16 or int8 state, run for a few invocations from the same
 * state by both kernels (odd input, filter and memory sizes: the 4-filter
 * blocks, the 4-value groups and the 2-step time products all have
 * remainders). Half the cases use large values scaled so that most outputs
 * land inside int8; the other half small values with scales of about 1, so
 * that a product sum off by one changes the state or the output. */
static void svdf_case(int32_t index)
{
    te_svdf_params p;
    const int wide = range(0, 2) != 0, precise = range(0, 1);
    const int32_t time_lim = precise ? 3 : wide ? 32767 : 127;
    const int8_t *state8[2];
    int32_t i, step, steps, units, n_state;
    memset(&p, 0, sizeof p);
    p.batches = range(1, 2);
    p.input_size = range(0, 3) == 0 ? range(1, 7) : range(8, SVDF_MAX_INPUT);
    p.rank = range(1, 3);
    units = range(1, SVDF_MAX_FILTERS / p.rank);
    p.filters = units * p.rank;
    p.memory = range(1, SVDF_MAX_MEMORY);
    p.state_zero_point = precise ? range(-3, 3)
                         : wide ? (range(0, 1) ? 0 : range(-300, 300)) : range(-20, 20);
    p.output_zero_point = range(-20, 20);
    p.feature_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
    p.feature_shift = precise ? 0 : (wide ? 0 : -8) - 1 - half_log2(p.input_size) + range(-1, 1);
    p.output_multiplier = (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
    p.output_shift = precise ? 0
                     : (wide ? -22 : -9) - half_log2(p.memory * p.rank) + range(-1, 1);
    fill_svdf(svdf_wf, p.filters * p.input_size, precise);
    for (i = 0; i < p.filters * p.memory; i++) {
        svdf_wt[i] = (int16_t)range(-time_lim, time_lim);
    }
    for (i = 0; i < p.filters; i++) {
        svdf_fbias[i] = precise ? range(-20, 20)
                        : range(0, 7) == 0 ? (int32_t)rnd() : range(-4000, 4000);
        svdf_bias[i] = precise ? range(-20, 20)
                       : range(0, 7) == 0 ? (int32_t)rnd() : range(-40000, 40000);
    }
    p.feature_bias = svdf_fbias;
    n_state = p.batches * p.filters * p.memory;
    for (i = 0; i < n_state; i++) {
        svdf_state[0][i] = (int16_t)(p.state_zero_point +
                                     (precise ? range(-3, 3) : wide ? range(-4096, 4096)
                                                                    : range(-100, 100)));
    }
    if (!wide) {
        /* the int8 state packed at the start of the buffer */
        for (i = 0; i < n_state; i++) {
            ((int8_t *)svdf_state[0])[i] = (int8_t)svdf_state[0][i];
        }
    }
    memcpy(svdf_state[1], svdf_state[0], sizeof svdf_state[0]);
    state8[0] = (const int8_t *)svdf_state[0];
    state8[1] = (const int8_t *)svdf_state[1];
    steps = range(1, 3);
    for (step = 0; step < steps; step++) {
        const int32_t *bias = range(0, 4) == 0 ? 0 : svdf_bias;
        te_status a, b;
        fill_svdf(in_buf, p.batches * p.input_size, precise);
        memset(svdf_out, 0x5a, sizeof svdf_out);
        if (wide) {
            a = ref_te_svdf_s8_s16(&p, in_buf, svdf_wf, svdf_wt, bias, svdf_state[0],
                                   svdf_out[0]);
            b = te_svdf_s8_s16(&p, in_buf, svdf_wf, svdf_wt, bias, svdf_state[1], svdf_out[1]);
        } else {
            int8_t wt8[SVDF_MAX_FILTERS * SVDF_MAX_MEMORY];
            for (i = 0; i < p.filters * p.memory; i++) {
                wt8[i] = (int8_t)svdf_wt[i];
            }
            a = ref_te_svdf_s8_s8(&p, in_buf, svdf_wf, wt8, bias, (int8_t *)svdf_state[0],
                                  svdf_out[0]);
            b = te_svdf_s8_s8(&p, in_buf, svdf_wf, wt8, bias, (int8_t *)svdf_state[1],
                              svdf_out[1]);
        }
        compare_buffers(wide ? "svdf16" : "svdf8", index, a, b, svdf_out[0], svdf_out[1],
                        p.batches * units);
        count_inside(p.batches * units, -128, 127);
        compare_buffers(wide ? "svdf16_state" : "svdf8_state", index, TE_OK, TE_OK,
                        state8[0], state8[1], n_state * (wide ? 2 : 1));
    }
}
#endif

int main(void)
{
    int32_t i, cases = 0;
    for (i = 0; i < TE_DSP_CASES; i++) {
#if TE_DSP_CONV
        conv_case(i);
        cases++;
#endif
#if TE_DSP_DEPTHWISE
        depthwise_case(i);
        cases++;
#endif
#if TE_DSP_FC
        fc_case(i);
        cases++;
#endif
#if TE_DSP_LSTM
        lstm_case(i);
        cases++;
#endif
#if TE_DSP_SVDF
        svdf_case(i);
        cases++;
#endif
    }
#if TE_DSP_CONV
    te_write("TE_DSP_PAIRED ");
    put_num(paired_cases);
    te_write("\n");
#endif
    te_write("TE_DSP_DONE ");
    put_num(cases);
    put_num(failures);
    put_num(outputs_inside);
    put_num(outputs);
    te_write("\n");
    te_exit(failures == 0 ? 0 : 1);
    return 0;
}
"""
HARNESS = HARNESS.replace("/* C_HELPERS */\n", C_HELPERS)


def _run(cmd, **kwargs):
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, " ".join(map(str, cmd)) + "\n" + result.stdout + result.stderr
    return result


def build(tmp_path, target: str, kernel: str, seed: int, opt: str = "-O2",
          kernel_defines: tuple[str, ...] = (), kernel_dir: str = "armv7em"):
    board = BOARDS[target]
    env = template_environment()
    context = {"version": __version__, "name": "dsp", "board": board.machine, "seed": seed,
               "inputs": [], "outputs": [], "flash_origin": board.flash_origin,
               "flash_bytes": board.flash_bytes, "ram_origin": board.ram_origin,
               "ram_bytes": board.ram_bytes, "stack_bytes": board.stack_bytes}
    for template, filename in (("firmware/startup.c.j2", "startup.c"),
                               ("firmware/te_firmware.h.j2", "te_firmware.h"),
                               ("firmware/link.ld.j2", "link.ld")):
        (tmp_path / filename).write_text(env.get_template(template).render(context))
    (tmp_path / "harness.c").write_text(HARNESS)
    cflags = [*get_target(target).cflags, opt, *WARNING_FLAGS, *BUILD_FLAGS,
              f"-I{tmp_path}", f"-I{KERNELS_DIR / 'include'}"]
    filename, function = KERNELS[kernel]
    optimized = KERNELS_DIR / "src" / kernel_dir / filename
    assert optimized.is_file(), f"{optimized} missing"
    defines = [f"-DTE_DSP_{k.upper()}={int(k == kernel)}" for k in ALL_KERNELS]
    defines.append(f"-DTE_DSP_MVE={int(kernel_dir == 'mve')}")
    objects = []
    for source, extra in ((tmp_path / "startup.c", []),
                          (tmp_path / "harness.c",
                           [*defines, f"-DTE_DSP_SEED={seed}u", f"-DTE_DSP_CASES={CASES}"]),
                          (optimized, list(kernel_defines)),
                          (KERNELS_DIR / "src" / "ref" / filename,
                           [f"-D{f}=ref_{f}" for f in (function, *ALSO_DEFINED.get(kernel, ()))])):
        obj = tmp_path / f"{len(objects)}_{source.stem}.o"
        _run(["arm-none-eabi-gcc", *cflags, *extra, "-c", str(source), "-o", str(obj)])
        objects.append(str(obj))
    elf = tmp_path / "dsp.elf"
    _run(["arm-none-eabi-gcc", *get_target(target).cflags, opt, "-nostartfiles",
          "-T", str(tmp_path / "link.ld"), "-Wl,--gc-sections", *objects, "-o", str(elf)])
    return elf


def run(elf, target: str) -> str:
    cmd = ["qemu-system-arm", "-M", BOARDS[target].machine, "-nographic", "-monitor", "none",
           "-serial", "none", "-chardev", "stdio,id=sh0",
           "-semihosting-config", "enable=on,target=native,chardev=sh0", "-kernel", str(elf)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                            stdin=subprocess.DEVNULL)
    return result.stdout + result.stderr


def check_every_case_matched(console: str):
    """The harness ran all its cases without a fault, and every output of the
    optimized kernel equaled the reference's."""
    assert "TE_FAULT" not in console, console[-2000:]
    mismatches = re.findall(r"TE_DSP_MISMATCH .*", console)
    done = re.search(r"TE_DSP_DONE (\d+) (\d+) (\d+) (\d+)", console)
    assert done, console[-2000:]
    assert not mismatches and done.group(2) == "0", "\n".join(mismatches[:20])
    assert int(done.group(1)) == CASES
    # Most outputs are not clamped, so an arithmetic slip of one would show.
    assert int(done.group(3)) > int(done.group(4)) // 2, done.group(0)


# -O0 builds the C loops that stand in for the asm ones (TE_DSP_ASM in te_dsp.h); -Os
# places the asm loops differently (a label's alignment once decided an ADR's result).
@pytest.mark.parametrize("target,seed,opt", [("cortex-m4", 1, "-O2"), ("cortex-m4", 2, "-O2"),
                                             ("cortex-m7", 3, "-O2"), ("cortex-m4", 4, "-O0"),
                                             ("cortex-m55", 5, "-O2"), ("cortex-m4", 11, "-Os")])
@pytest.mark.parametrize("kernel", sorted(KERNELS))
def test_dsp_kernel_matches_reference_on_the_emulator(tmp_path, kernel, target, seed, opt):
    assert "armv7em" in get_target(target).kernel_dirs
    console = run(build(tmp_path, target, kernel, seed, opt), target)
    check_every_case_matched(console)
    if kernel == "conv":
        # the layers again with their filters in pairs (TE_CONV_FILTER_PAIRS)
        paired = re.search(r"TE_DSP_PAIRED (\d+)", console)
        assert paired and int(paired.group(1)) >= CASES // 20, console[-2000:]


# -O0 and -Os place the intrinsics' predicates and loops differently; the small
# limits send most layers to taps_s16, the int16 loop over valid taps.
@pytest.mark.parametrize("kernel,seed,opt,defines", [
    *((kernel, seed, opt, ()) for kernel in ("conv", "fc")
      for seed, opt in ((12, "-O2"), (13, "-O0"), (16, "-Os"))),
    ("conv", 15, "-O2", ("-DTE_MVE_FOLDED=4", "-DTE_MVE_WINDOW=32"))])
def test_helium_kernel_matches_reference_on_the_emulator(tmp_path, kernel, seed, opt, defines):
    """The Cortex-M55's Helium (MVE) kernels against the reference on the same random
    layers as the ARMv7E-M ones (conv2d: every stride, dilation, padding, group count,
    requantization, declining filters in pairs; fully connected: both layouts, with
    and without offsets), also over their input."""
    console = run(build(tmp_path, "cortex-m55", kernel, seed, opt, kernel_defines=defines,
                        kernel_dir="mve"), "cortex-m55")
    check_every_case_matched(console)
    if kernel == "conv":
        assert re.search(r"TE_DSP_PAIRED 0\b", console), console[-2000:]


@pytest.mark.parametrize("kernel", ["fc", "lstm"])
def test_rows_without_row_blocks_match_reference(tmp_path, kernel):
    """A build that leaves out the row blocks (a folder whose layers all take
    interleaved matrices) still reads rows, one at a time."""
    elf = build(tmp_path, "cortex-m4", kernel, 6, kernel_defines=("-DTE_ROW_BLOCKS=0",))
    console = run(elf, "cortex-m4")
    done = re.search(r"TE_DSP_DONE (\d+) (\d+) (\d+) (\d+)", console)
    assert done and done.group(2) == "0", console[-2000:]
    assert int(done.group(1)) == CASES


def test_convolution_without_column_blocks_matches_reference(tmp_path):
    """A build without the column path (a folder whose layers all take others):
    conv_six computes a layer's last, short block of pixels itself, and the other
    layers take the paths left (one pixel at a time, conv_narrow)."""
    elf = build(tmp_path, "cortex-m4", "conv", 7, kernel_defines=("-DTE_CONV_COLUMNS=0",))
    console = run(elf, "cortex-m4")
    done = re.search(r"TE_DSP_DONE (\d+) (\d+) (\d+) (\d+)", console)
    assert done and done.group(2) == "0", console[-2000:]
    assert int(done.group(1)) == CASES


def test_convolution_one_six_pixel_block_at_a_time_matches_reference(tmp_path):
    """-DTE_DSP_SIX_MAX_BLOCKS=1, the least stack for the six-pixel path's columns:
    each filter runs over one block at a time."""
    elf = build(tmp_path, "cortex-m4", "conv", 8, kernel_defines=("-DTE_DSP_SIX_MAX_BLOCKS=1",))
    console = run(elf, "cortex-m4")
    done = re.search(r"TE_DSP_DONE (\d+) (\d+) (\d+) (\d+)", console)
    assert done and done.group(2) == "0", console[-2000:]
    assert int(done.group(1)) == CASES


def test_dsp_kernels_are_the_ones_built_for_cortex_m4_and_m7(shared_models, tmp_path):
    """The firmware of a model with conv, depthwise and fully connected layers takes the
    armv7em files for cortex-m4/m7, for cortex-m55 the Helium ones where there are any
    (conv, fully connected) and the armv7em others, and the reference ones for
    cortex-m3."""
    import tinyedge
    from tinyedge.firmware import kernel_files

    model = tinyedge.compile(shared_models / "mlperf_tiny" / "kws_ref_model.tflite",
                             tmp_path / "kws")
    used = [filename for filename, function in KERNELS.values()
            if function in model.report["kernels"]]
    assert len(used) == 3  # conv, depthwise, fully connected
    for target in ("cortex-m4", "cortex-m7", "cortex-m55"):
        files = kernel_files(model, target)
        for filename in used:
            helium = target == "cortex-m55" and (KERNELS_DIR / "src" / "mve" / filename).is_file()
            folder = "mve" if helium else "armv7em"
            assert KERNELS_DIR / "src" / folder / filename in files, (target, filename)
    assert not any("armv7em" in str(p) for p in kernel_files(model, "cortex-m3"))


@pytest.mark.parametrize("level", ["-O1", "-O2", "-O3", "-Os", "-Og"])
@pytest.mark.parametrize("target", ["cortex-m4", "cortex-m7", "cortex-m55"])
def test_dsp_kernels_compile_at_every_level_and_with_a_frame_pointer(tmp_path, target, level):
    """The asm loops leave r7 free, and the ones that take 12 registers or more name
    them, so a firmware built with a frame pointer (for a debugger or profiler) still
    compiles, warning-free, at every optimization level (with the target's hard-float
    ABI, where GCC has the fewest registers to spare)."""
    folders = ("armv7em", "mve") if target == "cortex-m55" else ("armv7em",)
    for flags in ([level], [level, "-fno-omit-frame-pointer"]):
        for source in sorted(p for d in folders for p in (KERNELS_DIR / "src" / d).glob("*.c")):
            _run(["arm-none-eabi-gcc", *get_target(target).cflags, *flags, *WARNING_FLAGS,
                  f"-I{KERNELS_DIR / 'include'}", "-c", str(source),
                  "-o", str(tmp_path / f"{source.stem}.o")])
