"""The per-channel requantization of the ARMv7E-M DSP kernels (te_dsp_rq_init and
te_dsp_rq_apply in kernels/src/armv7em/te_dsp.h, with te_dsp_mbqm for what te_dsp_rq_init
declines) equals te_mbqm (kernels/include/tinyedge/te_arith.h, the reference kernels'
requantization) on an emulated Cortex-M4 and Cortex-M7: every shift from -40 to +31, TFLite-like,
zero, tiny, INT32_MAX, negative and INT32_MIN multipliers, random accumulators, INT32_MIN,
INT32_MAX and values around 0, and accumulators built to land exactly on a tie of either
rounding (the high multiply's and the right shift's), in both signs."""
from __future__ import annotations

import re
import shutil

import pytest
from test_dsp_kernels import TOOLS, _run, run

from tinyedge import KERNELS_DIR, __version__
from tinyedge.codegen import template_environment
from tinyedge.firmware import BOARDS, BUILD_FLAGS, WARNING_FLAGS
from tinyedge.targets import get_target

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")

HARNESS = r"""/* te_dsp_rq_apply (or te_dsp_mbqm where te_dsp_rq_init declines) against
 * te_mbqm, run as firmware under QEMU by tests/test_dsp_requant.py. Prints one
 * line per difference and "TE_RQ_DONE <checks> <failures> <fast checks>
 * <shifts with a fast check> <tie checks>". */
#include <stdint.h>

#include "te_firmware.h"
#include "te_dsp.h"

static uint32_t rng_state = TE_RQ_SEED;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
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

static int32_t checks, failures, fast_checks, ties;

static void check(int32_t x, int32_t multiplier, int32_t shift)
{
    te_dsp_rq rq;
    const int fast = te_dsp_rq_init(&rq, multiplier, shift);
    const int32_t got = fast ? te_dsp_rq_apply(x, &rq) : te_dsp_mbqm(x, multiplier, shift);
    const int32_t want = te_mbqm(x, multiplier, shift);
    checks++;
    fast_checks += fast;
    if (got != want) {
        if (failures < 20) {
            te_write("TE_RQ_MISMATCH ");
            put_num(x);
            put_num(multiplier);
            put_num(shift);
            put_num(got);
            put_num(want);
            te_write("\n");
        }
        failures++;
    }
}

static int32_t pick_multiplier(int32_t i)
{
    switch (i % 8) {
    case 0: return 0;
    case 1: return INT32_MAX;
    case 2: return (int32_t)(rnd() & 0xffu);                  /* tiny */
    case 3: return (int32_t)0x40000000;                       /* exactly 1/2 */
    case 4: return (int32_t)(rnd() & 0x7fffffffu);            /* any non-negative */
    case 5: return (i & 8) ? INT32_MIN : -(int32_t)(rnd() & 0x7fffffffu);
    default: return (int32_t)(0x40000000u + (rnd() & 0x3fffffffu)); /* TFLite's range */
    }
}

static int32_t pick_accumulator(int32_t i)
{
    switch (i % 10) {
    case 0: return INT32_MIN;
    case 1: return INT32_MAX;
    case 2: return INT32_MIN + (int32_t)(rnd() & 0xffu);
    case 3: return INT32_MAX - (int32_t)(rnd() & 0xffu);
    case 4: return (int32_t)(rnd() & 0x1ffu) - 256;
    case 5: return (int32_t)(rnd() & 0x1ffffu) - 65536;
    default: return (int32_t)rnd();
    }
}

/* Accumulators x for which x * 2^30 (a multiplier of exactly 1/2) puts the
 * high multiply on a tie (x odd) or h = round(x / 2) on a tie of the right
 * shift by r (h = (2j + 1) * 2^(r-1)), and their neighbours. */
static void tie_checks(int32_t shift)
{
    const int32_t r = shift < -31 ? 31 : (shift < 0 ? -shift : 0);
    int32_t i, d;
    for (i = 0; i < 24; i++) {
        const int32_t j = (int32_t)(rnd() % 64u) - 32;
        /* h = (2j + 1) * 2^(r-1), wrapping like the kernels' int32 (r = 31: any h) */
        const int64_t h = r > 0 ? (2 * (int64_t)j + 1) * ((int64_t)1 << (r - 1)) : j;
        const int64_t x2 = 2 * h;
        for (d = -2; d <= 2; d++) {
            const int64_t x = x2 + d;
            if (x >= INT32_MIN && x <= INT32_MAX) {
                check((int32_t)x, (int32_t)0x40000000, shift);
                check((int32_t)x, (int32_t)0x40000001, shift);
                ties += 2;
            }
        }
    }
}

int main(void)
{
    int32_t shift, i, shifts_fast = 0;
    for (shift = -40; shift <= 31; shift++) {
        const int32_t before = fast_checks;
        for (i = 0; i < TE_RQ_CASES; i++) {
            check(pick_accumulator(i / 8 + (int32_t)(rnd() % 3u)), pick_multiplier(i), shift);
        }
        tie_checks(shift);
        shifts_fast += fast_checks > before;
    }
    te_write("TE_RQ_DONE ");
    put_num(checks);
    put_num(failures);
    put_num(fast_checks);
    put_num(shifts_fast);
    put_num(ties);
    te_write("\n");
    te_exit(failures == 0 ? 0 : 1);
    return 0;
}
"""

CASES = 400


def build(tmp_path, target: str, seed: int, opt: str):
    board = BOARDS[target]
    env = template_environment()
    context = {"version": __version__, "name": "rq", "board": board.machine, "seed": seed,
               "inputs": [], "outputs": [], "flash_origin": board.flash_origin,
               "flash_bytes": board.flash_bytes, "ram_origin": board.ram_origin,
               "ram_bytes": board.ram_bytes, "stack_bytes": board.stack_bytes}
    for template, filename in (("firmware/startup.c.j2", "startup.c"),
                               ("firmware/te_firmware.h.j2", "te_firmware.h"),
                               ("firmware/link.ld.j2", "link.ld")):
        (tmp_path / filename).write_text(env.get_template(template).render(context))
    (tmp_path / "harness.c").write_text(HARNESS)
    cflags = [*get_target(target).cflags, opt, *WARNING_FLAGS, *BUILD_FLAGS, f"-I{tmp_path}",
              f"-I{KERNELS_DIR / 'include'}", f"-I{KERNELS_DIR / 'src' / 'armv7em'}"]
    objects = []
    for source, extra in ((tmp_path / "startup.c", []),
                          (tmp_path / "harness.c", [f"-DTE_RQ_SEED={seed}u",
                                                    f"-DTE_RQ_CASES={CASES}"])):
        obj = tmp_path / f"{source.stem}.o"
        _run(["arm-none-eabi-gcc", *cflags, *extra, "-c", str(source), "-o", str(obj)])
        objects.append(str(obj))
    elf = tmp_path / "rq.elf"
    _run(["arm-none-eabi-gcc", *get_target(target).cflags, opt, "-nostartfiles",
          "-T", str(tmp_path / "link.ld"), "-Wl,--gc-sections", *objects, "-o", str(elf)])
    return elf


# -O0 takes te_dsp_rq_apply's C form instead of its asm (TE_DSP_ASM).
@pytest.mark.parametrize("target,seed,opt", [("cortex-m4", 1, "-O2"), ("cortex-m7", 2, "-O2"),
                                             ("cortex-m4", 3, "-O0")])
def test_dsp_requantization_equals_te_mbqm_on_the_emulator(tmp_path, target, seed, opt):
    console = run(build(tmp_path, target, seed, opt), target)
    assert "TE_FAULT" not in console, console[-2000:]
    done = re.search(r"TE_RQ_DONE (\d+) (\d+) (\d+) (\d+) (\d+)", console)
    assert done, console[-2000:]
    checks, failures, fast, shifts_fast, ties = map(int, done.groups())
    assert failures == 0, "\n".join(re.findall(r"TE_RQ_MISMATCH .*", console))
    # The fast form is what most checks took, for every shift (a zero multiplier takes it
    # at any shift); most tie accumulators fit int32 (not all for the largest shifts).
    assert fast > checks // 3 and shifts_fast == 31 + 40 + 1, done.group(0)
    assert ties > 72 * 24 * 5 * 2 * 3 // 4, done.group(0)
