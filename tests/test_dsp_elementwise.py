"""The ARMv7E-M DSP te_add_s8 and te_avg_pool2d_s8 (kernels/src/armv7em/) agree with the
reference kernels byte for byte on randomized cases run on an emulated Cortex-M4 and
Cortex-M7, as tests/test_dsp_kernels.py does for conv/depthwise/fully connected: one firmware
links both versions (the reference renamed ref_te_...) and a harness that draws, for ADD,
element counts that are not multiples of 4, broadcasts, offsets from -127 to 128, TFLite-like
multipliers and shifts chosen so that most outputs are NOT clamped (an off-by-one then shows),
exact ties in both roundings and parameters from the whole accepted range; for AVERAGE_POOL_2D,
odd channel counts, padding, strides and global windows over more than 255 taps of values near
an end of the int8 range. Each case also runs with the output placed over an input as far as
the memory planner allows (planner/overlap.py: elementwise_limit, window_limit)."""
from __future__ import annotations

import re
import shutil

import pytest
from test_dsp_kernels import C_HELPERS, TOOLS, _run, run

from tinyedge import KERNELS_DIR, __version__
from tinyedge.codegen import template_environment
from tinyedge.firmware import BOARDS, BUILD_FLAGS, WARNING_FLAGS
from tinyedge.targets import get_target

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")

CASES = 500
KERNELS = ("add_s8", "avg_pool2d_s8")

HARNESS = r"""/* Randomized comparison of kernels/src/armv7em/add_s8.c and avg_pool2d_s8.c
 * with the reference kernels (renamed ref_te_...), run as firmware under QEMU by
 * tests/test_dsp_elementwise.py.
 * Prints one line per differing case and "TE_EW_DONE <cases> <failures>
 * <outputs strictly inside the clamp range> <outputs> <cases without broadcast
 * of at least 64 elements> <in-place runs> <average pooling cases>". */
#include <stdint.h>
#include <string.h>

#include "te_firmware.h"
#include "tinyedge/te_kernels.h"

te_status ref_te_add_s8(const te_add_params *, const te_elementwise_shape *, const int8_t *,
                        const int8_t *, int8_t *);
te_status ref_te_avg_pool2d_s8(const te_pool_params *, const te_dims *, const int8_t *,
                               const te_dims *, int8_t *);

#define MAX_ELEMENTS 1600
#define GUARD 64
#define SHARED (2 * MAX_ELEMENTS + 2 * GUARD)

static int8_t in1[MAX_ELEMENTS], in2[MAX_ELEMENTS];
static int8_t out_ref[MAX_ELEMENTS + GUARD], out_opt[MAX_ELEMENTS + GUARD];
static int8_t shared_ref[SHARED], shared_opt[SHARED];
static int32_t read1[MAX_ELEMENTS], read2[MAX_ELEMENTS];

static uint32_t rng_state = TE_EW_SEED;

/* C_HELPERS */

static int32_t failures, inside, outputs, table_cases, in_place_runs, pool_cases;

static void report(const char *what, int32_t index, te_status a, te_status b,
                   const int8_t *x, const int8_t *y, int32_t n)
{
    int32_t i = 0;
    if (a == b && memcmp(x, y, (size_t)n) == 0) {
        return;
    }
    while (i < n && x[i] == y[i]) {
        i++;
    }
    te_write("TE_EW_MISMATCH ");
    te_write(what);
    te_write(" ");
    put_num(index);
    put_num(a);
    put_num(b);
    put_num(i);
    te_write("\n");
    failures++;
}

static int32_t pick_offset(void)
{
    switch (range(0, 4)) {
    case 0: return 128;
    case 1: return -127;
    case 2: return 0;
    default: return range(-127, 128);
    }
}

static int32_t multiplier_at_least_half(void)
{
    return (int32_t)(0x40000000u + (rnd() & 0x3fffffffu));
}

/* TFLite's preparation: the input with the larger scale gets 0.5
 * (2^30, shift 0), the other a multiplier in [0.5, 1) times 2^shift with
 * shift <= -1 (input scale ratio down to 1/64); the output multiplier
 * carries 2^(1 - left_shift) times a scale ratio of 2^t. Three cases in four
 * keep the ratio near 1 (outputs of the order of the inputs); the others draw
 * an exact tie case or parameters from the whole accepted range. */
static void pick_params(te_add_params *p)
{
    const int mode = (int)range(0, 7);
    p->input1_offset = pick_offset();
    p->input2_offset = pick_offset();
    p->output_offset = range(-100, 100);
    p->left_shift = range(0, 5) == 0 ? range(0, 20) : 20;
    if (mode < 6) {
        const int first_larger = (int)range(0, 1);
        const int32_t t = mode == 5 ? range(-6, 2) : range(-1, 0);
        p->input1_multiplier = first_larger ? 0x40000000 : multiplier_at_least_half();
        p->input1_shift = first_larger ? 0 : range(-6, -1);
        p->input2_multiplier = first_larger ? multiplier_at_least_half() : 0x40000000;
        p->input2_shift = first_larger ? range(-6, -1) : 0;
        p->output_multiplier = multiplier_at_least_half();
        p->output_shift = t + 1 - p->left_shift;
    } else if (mode == 6) {
        /* both inputs x 2^(left_shift - 1) exactly, then a power-of-two output
         * rescale: te_rdbpot meets a tie on every other sum */
        p->input1_multiplier = p->input2_multiplier = p->output_multiplier = 0x40000000;
        p->input1_shift = p->input2_shift = 0;
        p->output_shift = range(-1, 1) - p->left_shift;
    } else {
        p->input1_multiplier = range(0, 7) == 0 ? 0 : (int32_t)(rnd() & 0x7fffffffu);
        p->input2_multiplier = (int32_t)(rnd() & 0x7fffffffu);
        p->output_multiplier = (int32_t)(rnd() & 0x7fffffffu);
        p->input1_shift = range(-33, 0);
        p->input2_shift = range(-33, 0);
        p->output_shift = range(-33, 0);
    }
    if (p->output_shift > 0) {
        p->output_shift = 0;
    }
    switch (range(0, 3)) {
    case 0:
        p->activation_min = p->output_offset; /* RELU */
        p->activation_max = 127;
        break;
    case 1:
        p->activation_min = range(-128, 0);
        p->activation_max = range(p->activation_min + 64, 127);
        break;
    default:
        p->activation_min = -128;
        p->activation_max = 127;
        break;
    }
}

/* Values around the zero point (-offset), as real activations, or any int8. */
static void fill(int8_t *x, int32_t n, int32_t offset)
{
    const int32_t spread = range(0, 7) == 0 ? 0 : (range(0, 1) ? 24 : 64);
    int32_t i;
    for (i = 0; i < n; i++) {
        int32_t v = spread == 0 ? range(-128, 127) : -offset + range(-spread, spread);
        x[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
}

/* The output shape (6-D, leading ones) and, for a broadcast, each input's
 * extents (1 or the output's) with their strides; returns the element count. */
static int32_t pick_shape(te_elementwise_shape *s, int32_t *n1, int32_t *n2)
{
    int32_t i, size = 1;
    memset(s, 0, sizeof *s);
    for (i = 0; i < 6; i++) {
        s->output_shape[i] = 1;
    }
    s->broadcast = range(0, 3) == 0;
    if (!s->broadcast) {
        /* below 64 elements the DSP kernel falls back to the reference */
        if (range(0, 1)) {
            s->output_shape[5] = range(0, 4) == 0 ? range(1, 63) : 4 * range(16, 390) + range(0, 3);
        } else {
            s->output_shape[3] = range(1, 4);
            s->output_shape[4] = range(1, 9);
            s->output_shape[5] = range(1, 40);
        }
        *n1 = *n2 = s->output_shape[3] * s->output_shape[4] * s->output_shape[5];
        return *n1;
    }
    {
        int32_t stride1 = 1, stride2 = 1;
        for (i = 5; i >= 2; i--) {
            const int32_t extent = i == 2 ? range(1, 2) : range(1, 7);
            const int which = (int)range(0, 2); /* 0: input 1 broadcast here, 1: input 2, 2: none */
            s->output_shape[i] = extent;
            s->input1_strides[i] = which == 0 ? 0 : stride1;
            s->input2_strides[i] = which == 1 ? 0 : stride2;
            stride1 *= which == 0 ? 1 : extent;
            stride2 *= which == 1 ? 1 : extent;
            size *= extent;
        }
        *n1 = stride1;
        *n2 = stride2;
    }
    return size;
}

/* Which element of each input output element k reads (the reference walk). */
static void read_indices(const te_elementwise_shape *s, int32_t size)
{
    int32_t k;
    for (k = 0; k < size; k++) {
        int32_t rest = k, i, r1 = 0, r2 = 0;
        for (i = 5; i >= 0; i--) {
            const int32_t coordinate = s->broadcast ? rest % s->output_shape[i] : 0;
            rest = s->broadcast ? rest / s->output_shape[i] : rest;
            r1 += coordinate * s->input1_strides[i];
            r2 += coordinate * s->input2_strides[i];
        }
        read1[k] = s->broadcast ? r1 : k;
        read2[k] = s->broadcast ? r2 : k;
    }
}

/* overlap.py's elementwise_limit: min over output elements k that have a
 * later read of (lowest input element read after k) - (k + 1). */
static int32_t elementwise_limit(const int32_t *reads, int32_t size)
{
    int32_t limit = INT32_MAX, later = INT32_MAX, k;
    for (k = size - 1; k >= 0; k--) {
        if (later != INT32_MAX && later - (k + 1) < limit) {
            limit = later - (k + 1);
        }
        later = reads[k] < later ? reads[k] : later;
    }
    return limit;
}

/* The output placed `gap` bytes after the start of input `which` (gap <= the
 * planner's limit), in one buffer; compares the whole buffer afterwards. */
static void in_place(const te_add_params *p, const te_elementwise_shape *s, int which,
                     int32_t n_in, int32_t gap, int32_t index)
{
    const int32_t in_pos = gap < 0 ? -gap : 0;
    te_status a, b;
    if (gap >= n_in || in_pos + n_in + GUARD > SHARED) {
        return; /* no overlap, or too far apart for the buffer */
    }
    memset(shared_ref, 0x5a, sizeof shared_ref);
    memcpy(shared_ref + in_pos, which == 1 ? in1 : in2, (size_t)n_in);
    memcpy(shared_opt, shared_ref, sizeof shared_opt);
    if (which == 1) {
        a = ref_te_add_s8(p, s, shared_ref + in_pos, in2, shared_ref + in_pos + gap);
        b = te_add_s8(p, s, shared_opt + in_pos, in2, shared_opt + in_pos + gap);
    } else {
        a = ref_te_add_s8(p, s, in1, shared_ref + in_pos, shared_ref + in_pos + gap);
        b = te_add_s8(p, s, in1, shared_opt + in_pos, shared_opt + in_pos + gap);
    }
    report(which == 1 ? "in_place_1" : "in_place_2", index, a, b, shared_ref, shared_opt,
           SHARED);
    in_place_runs++;
}

static void add_case(int32_t index)
{
    te_add_params p;
    te_elementwise_shape s;
    int32_t n1, n2, size, k, which;
    te_status a, b;
    pick_params(&p);
    size = pick_shape(&s, &n1, &n2);
    fill(in1, n1, p.input1_offset);
    fill(in2, n2, p.input2_offset);
    memset(out_ref, 0x5a, sizeof out_ref);
    memset(out_opt, 0x5a, sizeof out_opt);
    a = ref_te_add_s8(&p, &s, in1, in2, out_ref);
    b = te_add_s8(&p, &s, in1, in2, out_opt);
    report("separate", index, a, b, out_ref, out_opt, size + GUARD);
    for (k = 0; k < size; k++) {
        inside += out_ref[k] > p.activation_min && out_ref[k] < p.activation_max;
    }
    outputs += size;
    table_cases += !s.broadcast && size >= 64;
    read_indices(&s, size);
    for (which = 1; which <= 2; which++) {
        const int32_t limit = elementwise_limit(which == 1 ? read1 : read2, size);
        const int32_t gap = limit == INT32_MAX ? 0 : limit - (range(0, 3) == 0 ? range(1, 9) : 0);
        in_place(&p, &s, which, which == 1 ? n1 : n2, gap, index);
    }
}

/* AVERAGE_POOL_2D: windows up to the whole input (more taps than the DSP
 * kernel's halfword sums take), padding, strides, odd channel counts. */
#define POOL_MAX (2 * 20 * 20 * 20)
static int8_t pool_in[POOL_MAX];
static int8_t pool_ref[POOL_MAX + GUARD], pool_opt[POOL_MAX + GUARD];
static int8_t pool_shared_ref[2 * POOL_MAX + GUARD], pool_shared_opt[2 * POOL_MAX + GUARD];

/* The first input row (or column) inside the image of a window, -1 if none. */
static int32_t first_tap(int32_t origin, int32_t size, int32_t taps)
{
    const int32_t first = origin < 0 ? 0 : origin;
    return first - origin < taps && first < size ? first : -1;
}

/* overlap.py's window_limit (dilation 1); INT32_MAX when nothing is read. */
static int32_t window_limit(const te_dims *in, const te_dims *out, const te_pool_params *p)
{
    int32_t limit = INT32_MAX, still_needed = INT32_MAX, k;
    for (k = out->n * out->h * out->w - 1; k >= 0; k--) {
        const int32_t batch = k / (out->h * out->w);
        const int32_t y = first_tap(((k / out->w) % out->h) * p->stride_h - p->pad_h, in->h,
                                    p->filter_h);
        const int32_t x = first_tap((k % out->w) * p->stride_w - p->pad_w, in->w, p->filter_w);
        if (y >= 0 && x >= 0) {
            const int32_t lowest = ((batch * in->h + y) * in->w + x) * in->c;
            still_needed = still_needed < lowest ? still_needed : lowest;
        }
        if (still_needed != INT32_MAX && still_needed - (k + 1) * out->c < limit) {
            limit = still_needed - (k + 1) * out->c;
        }
    }
    return limit;
}

static void pool_case(int32_t index)
{
    te_pool_params p;
    te_dims in, out;
    int32_t n_in, n_out, limit, i;
    te_status a, b;
    in.n = range(0, 5) == 0 ? 2 : 1;
    in.h = range(1, 12);
    in.w = range(1, 12);
    in.c = range(0, 3) == 0 ? 4 * range(1, 16) : range(1, 21);
    if (range(0, 4) == 0) {
        /* global pooling, as KWS's 25x5, sometimes over more than 255 taps */
        in.h = range(5, 20);
        in.w = range(5, 20);
        in.c = range(1, 20);
        p.filter_h = in.h;
        p.filter_w = in.w;
        p.stride_h = p.stride_w = 1;
        p.pad_h = p.pad_w = 0;
    } else {
        p.filter_h = range(1, 6);
        p.filter_w = range(1, 6);
        p.stride_h = range(1, 3);
        p.stride_w = range(1, 3);
        p.pad_h = range(0, p.filter_h - 1);
        p.pad_w = range(0, p.filter_w - 1);
    }
    out.n = in.n;
    out.c = in.c;
    out.h = (in.h + 2 * p.pad_h - p.filter_h) / p.stride_h + 1;
    out.w = (in.w + 2 * p.pad_w - p.filter_w) / p.stride_w + 1;
    if (out.h < 1 || range(0, 15) == 0) {
        out.h = range(1, 6); /* may put a window in the padding: an argument error */
    }
    if (out.w < 1) {
        out.w = range(1, 6);
    }
    if (range(0, 1)) {
        p.activation_min = -128;
        p.activation_max = 127;
    } else {
        p.activation_min = range(-128, 0);
        p.activation_max = range(p.activation_min, 127);
    }
    n_in = in.n * in.h * in.w * in.c;
    n_out = out.n * out.h * out.w * out.c;
    if (n_in > POOL_MAX || n_out > POOL_MAX) {
        return;
    }
    {
        /* one case in four near an end of the int8 range: the largest sums */
        const int32_t mode = range(0, 7);
        for (i = 0; i < n_in; i++) {
            pool_in[i] = (int8_t)(mode == 0 ? range(100, 127)
                                  : mode == 1 ? range(-128, -100) : range(-128, 127));
        }
    }
    memset(pool_ref, 0x5a, sizeof pool_ref);
    memset(pool_opt, 0x5a, sizeof pool_opt);
    a = ref_te_avg_pool2d_s8(&p, &in, pool_in, &out, pool_ref);
    b = te_avg_pool2d_s8(&p, &in, pool_in, &out, pool_opt);
    report("avg_pool", index, a, b, pool_ref, pool_opt, n_out + GUARD);
    pool_cases++;
    limit = window_limit(&in, &out, &p);
    if (a == TE_OK && limit < n_in) {
        /* the output `limit` bytes after the input's start (usually before it) */
        const int32_t in_pos = limit < 0 ? -limit : 0;
        memset(pool_shared_ref, 0x5a, sizeof pool_shared_ref);
        memcpy(pool_shared_ref + in_pos, pool_in, (size_t)n_in);
        memcpy(pool_shared_opt, pool_shared_ref, sizeof pool_shared_opt);
        a = ref_te_avg_pool2d_s8(&p, &in, pool_shared_ref + in_pos, &out,
                                 pool_shared_ref + in_pos + limit);
        b = te_avg_pool2d_s8(&p, &in, pool_shared_opt + in_pos, &out,
                             pool_shared_opt + in_pos + limit);
        report("avg_pool_in_place", index, a, b, pool_shared_ref, pool_shared_opt,
               (int32_t)sizeof pool_shared_ref);
    }
}

int main(void)
{
    int32_t i;
    for (i = 0; i < TE_EW_CASES; i++) {
        add_case(i);
        pool_case(i);
    }
    te_write("TE_EW_DONE ");
    put_num(TE_EW_CASES);
    put_num(failures);
    put_num(inside);
    put_num(outputs);
    put_num(table_cases);
    put_num(in_place_runs);
    put_num(pool_cases);
    te_write("\n");
    te_exit(failures == 0 ? 0 : 1);
    return 0;
}
"""
HARNESS = HARNESS.replace("/* C_HELPERS */\n", C_HELPERS)


def build(tmp_path, target: str, seed: int):
    board = BOARDS[target]
    env = template_environment()
    context = {"version": __version__, "name": "dsp_add", "board": board.machine, "seed": seed,
               "inputs": [], "outputs": [], "flash_origin": board.flash_origin,
               "flash_bytes": board.flash_bytes, "ram_origin": board.ram_origin,
               "ram_bytes": board.ram_bytes, "stack_bytes": board.stack_bytes}
    for template, filename in (("firmware/startup.c.j2", "startup.c"),
                               ("firmware/te_firmware.h.j2", "te_firmware.h"),
                               ("firmware/link.ld.j2", "link.ld")):
        (tmp_path / filename).write_text(env.get_template(template).render(context))
    (tmp_path / "harness.c").write_text(HARNESS)
    cflags = [*get_target(target).cflags, "-O2", *WARNING_FLAGS, *BUILD_FLAGS,
              f"-I{tmp_path}", f"-I{KERNELS_DIR / 'include'}"]
    objects = []
    for source, extra in ((tmp_path / "startup.c", []),
                          (tmp_path / "harness.c",
                           [f"-DTE_EW_SEED={seed}u", f"-DTE_EW_CASES={CASES}"]),
                          *[(KERNELS_DIR / "src" / d / f"{name}.c",
                             [] if d == "armv7em" else [f"-Dte_{name}=ref_te_{name}"])
                            for name in KERNELS for d in ("armv7em", "ref")]):
        obj = tmp_path / f"{len(objects)}_{source.stem}.o"
        _run(["arm-none-eabi-gcc", *cflags, *extra, "-c", str(source), "-o", str(obj)])
        objects.append(str(obj))
    elf = tmp_path / "dsp_add.elf"
    _run(["arm-none-eabi-gcc", *get_target(target).cflags, "-O2", "-nostartfiles",
          "-T", str(tmp_path / "link.ld"), "-Wl,--gc-sections", *objects, "-o", str(elf)])
    return elf


@pytest.mark.parametrize("target,seed", [("cortex-m4", 1), ("cortex-m4", 2), ("cortex-m7", 3)])
def test_dsp_add_and_avg_pool_match_the_reference_on_the_emulator(tmp_path, target, seed):
    assert "armv7em" in get_target(target).kernel_dirs
    console = run(build(tmp_path, target, seed), target)
    assert "TE_FAULT" not in console, console[-2000:]
    mismatches = re.findall(r"TE_EW_MISMATCH .*", console)
    done = re.search(r"TE_EW_DONE (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", console)
    assert done, console[-2000:]
    assert not mismatches and done.group(2) == "0", "\n".join(mismatches[:20])
    cases, _, inside, outputs, table_cases, in_place_runs, pool_cases = map(int, done.groups())
    assert cases == CASES
    # An arithmetic slip only shows on outputs the clamp does not hide.
    assert inside > 0.65 * outputs, (inside, outputs)
    # Most cases take the DSP kernel's table path, and most are also run in place.
    assert table_cases > 0.4 * CASES and in_place_runs > CASES, (table_cases, in_place_runs)
    assert pool_cases > 0.8 * CASES, pool_cases
