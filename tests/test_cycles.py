"""The cycle model of the QEMU plugin (tinyedge.cycles, docs/cycles.md) on hand-written
Thumb-2 sequences whose cost the core's Technical Reference Manual states. Each sequence
runs between the two marker functions of a minimal firmware under QEMU; its cost is the
count with the sequence minus the count of the same firmware with an empty sequence, and
must equal the formula computed here from the TRM's numbers (Cortex-M4 TRM table 3-1 and
"Load/store timings"; Cortex-M3 and Cortex-M0+ TRMs, table 3-1)."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tinyedge import __version__
from tinyedge.codegen import template_environment
from tinyedge.cycles import CORE_TIMINGS, parse_clock, plugin_config
from tinyedge.errors import TinyEdgeError
from tinyedge.firmware import BOARDS, flash_model, run_elf, symbols

pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in ("arm-none-eabi-gcc", "arm-none-eabi-nm",
                                          "qemu-system-arm")),
    reason="the Cortex-M toolchain or QEMU is not installed (scripts/setup.sh installs them)")

# The Cortex-M4 TRM's cycles (zero wait states); P, the refill after a taken branch, is a
# choice of the model within the TRM's 1 to 3, so it is read from the model.
LOAD, PIPELINED, STORE, ALU, DIV_WORST = 2, 1, 2, 1, 12
P4 = CORE_TIMINGS["cortex-m4"].refill

CPU_FLAGS = {"cortex-m0plus": ["-mcpu=cortex-m0plus"],
             "cortex-m3": ["-mcpu=cortex-m3"],
             "cortex-m4": ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
             "cortex-m7": ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"]}

HARNESS = """
    .syntax unified
    .thumb
    .section .vectors, "a"
    .word __stack_top
    .word Reset_Handler

    .text
    .global Reset_Handler, te_bench_start, te_bench_stop
    .type Reset_Handler, %function
    .thumb_func
Reset_Handler:
    {fpu}
    ldr r0, ={table}
    movs r1, #1
    movs r2, #2
    movs r3, #3
    movs r4, #4
    movs r5, #5
    movs r6, #6
    movs r7, #7
    bl te_bench_start
{sequence}
    bl te_bench_stop
    movs r0, #4           @ SYS_WRITE0
    ldr r1, =done_text
    bkpt 0xab
    movs r0, #0x20        @ SYS_EXIT_EXTENDED
    ldr r1, =exit_block
    bkpt 0xab
1:  b 1b

    .type te_bench_start, %function
    .thumb_func
te_bench_start:
    bx lr
    .type te_bench_stop, %function
    .thumb_func
te_bench_stop:
    bx lr
    .type helper, %function
    .thumb_func
helper:
    bx lr
    .ltorg

    .section .rodata
    .balign 8
flash_words:
    .fill 64, 4, 0x20000000
done_text:
    .asciz "TE_DONE\\n"
    .balign 4
exit_block:
    .word 0x20026, 0

    .bss
    .balign 8
ram_words:
    .space 256
"""

# Full access to the FPU (CPACR CP10/CP11) before any VFP instruction.
ENABLE_FPU = """ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #0xF00000
    str r1, [r0]
    dsb
    isb"""


def cycles_of(tmp_path, sequence: str, target: str = "cortex-m4", wait_states: int = 0,
              table: str = "ram_words") -> int:
    """Estimated cycles between the markers of a firmware running sequence."""
    board = BOARDS[target]
    work = tmp_path / f"fw{len(list(tmp_path.iterdir()))}"
    work.mkdir()
    fpu = ENABLE_FPU if target not in ("cortex-m0plus", "cortex-m3") else ""
    (work / "seq.S").write_text(HARNESS.format(sequence=sequence, table=table, fpu=fpu))
    context = {"version": __version__, "board": board.machine,
               "flash_origin": board.flash_origin, "flash_bytes": board.flash_bytes,
               "ram_origin": board.ram_origin, "ram_bytes": board.ram_bytes,
               "stack_bytes": board.stack_bytes}
    (work / "link.ld").write_text(
        template_environment().get_template("firmware/link.ld.j2").render(context))
    elf = work / "seq.elf"
    subprocess.run(["arm-none-eabi-gcc", *CPU_FLAGS[target], "-mthumb", "-nostdlib",
                    "-nostartfiles", "-T", str(work / "link.ld"), str(work / "seq.S"),
                    "-o", str(elf)], check=True, capture_output=True, text=True)
    syms = symbols(elf)
    config = [f"start {syms['te_bench_start'][0]:x}", f"stop {syms['te_bench_stop'][0]:x}",
              *plugin_config(CORE_TIMINGS[target], flash_model(board, wait_states))]
    figures, _ = run_elf(elf, board, work, config, timeout=60)
    return figures["cycles"]


def cost(tmp_path, sequence: str, **kwargs) -> int:
    """Cycles of sequence alone: the firmware with it minus the firmware without it."""
    return cycles_of(tmp_path, sequence, **kwargs) - cycles_of(tmp_path, "", **kwargs)


def lines(*instructions: str) -> str:
    return "\n".join(f"    {i}" for i in instructions)


def test_independent_loads_pipeline(tmp_path):
    n = 8
    loads = [f"ldr r{1 + i % 6}, [r0, #{4 * i}]" for i in range(n)]
    # The first load takes 2 cycles, each following independent load 1.
    assert cost(tmp_path, lines(*loads)) == LOAD + (n - 1) * PIPELINED


def test_a_load_that_needs_the_previous_loads_result_is_not_pipelined(tmp_path):
    # r1 is loaded, then used as the base (and as the offset) of the next load.
    assert cost(tmp_path, lines("ldr r1, [r0]", "ldr r2, [r1]")) == 2 * LOAD
    assert cost(tmp_path, lines("ldr r1, [r0]", "ldr.w r2, [r0, r1]")) == 2 * LOAD
    assert cost(tmp_path, lines("ldr r1, [r0]", "ldr.w r2, [r0, r3]")) == LOAD + PIPELINED


def test_stores_pipeline_only_behind_a_load(tmp_path):
    assert cost(tmp_path, lines("ldr r1, [r0]", "str r1, [r0, #4]")) == LOAD + PIPELINED
    assert cost(tmp_path, lines("str r1, [r0]", "str r2, [r0, #4]")) == 2 * STORE
    assert cost(tmp_path, lines("str r1, [r0]", "ldr r2, [r0, #4]")) == STORE + LOAD


def test_an_address_computed_just_before_a_load_stalls_a_cycle(tmp_path):
    # No forwarding path from data processing to address generation (TRM, "Load/store
    # timings"): one more cycle when the base or offset was written just before.
    assert cost(tmp_path, lines("adds r1, r0, #4", "ldr r2, [r1]")) == ALU + LOAD + 1
    assert cost(tmp_path, lines("lsls r3, r3, #2", "ldr.w r2, [r0, r3]")) == ALU + LOAD + 1
    assert cost(tmp_path, lines("add.w r1, r0, #4", "str r2, [r1]")) == ALU + STORE + 1
    assert cost(tmp_path, lines("adds r1, r0, #4", "ldm r1, {r2, r3}")) == ALU + (1 + 2) + 1
    # A register the load does not address with, or an instruction in between: no stall.
    assert cost(tmp_path, lines("adds r2, r0, #4", "ldr r3, [r0]")) == ALU + LOAD
    assert cost(tmp_path, lines("adds r1, r0, #4", "nop", "ldr r2, [r1]")) == 2 * ALU + LOAD


@pytest.mark.parametrize("registers", [1, 4, 7])
def test_ldm_stm_take_one_plus_n(tmp_path, registers):
    reglist = ", ".join(f"r{1 + i}" for i in range(registers))
    assert cost(tmp_path, lines(f"ldm r0, {{{reglist}}}")) == 1 + registers
    assert cost(tmp_path, lines(f"stmia.w r0, {{{reglist}}}")) == 1 + registers


def test_push_pop_and_ldrd(tmp_path):
    assert cost(tmp_path, lines("push {r4-r11}", "pop {r4-r11}")) == 2 * (1 + 8)
    # LDRD moves two registers (1 + N) and pipelines with nothing.
    assert cost(tmp_path, lines("ldrd r2, r3, [r0]", "ldr r4, [r0, #8]")) == (1 + 2) + LOAD


def test_dsp_and_multiplies_are_single_cycle_on_m4(tmp_path):
    k = 6
    assert cost(tmp_path, lines(*["smlad r1, r2, r3, r1"] * k)) == k
    dsp = ["sxtb16 r1, r2", "uxtab16 r3, r3, r4, ror #8", "sadd16 r5, r5, r6", "ssat r1, #8, r1",
           "mul r2, r3, r2", "mla r4, r5, r6, r4", "smull r1, r2, r3, r4", "umlal r1, r2, r3, r4",
           "smlabb r1, r2, r3, r1", "smlald r1, r2, r3, r4", "clz r5, r6", "ubfx r1, r2, #3, #4"]
    assert cost(tmp_path, lines(*dsp)) == len(dsp) * ALU


def test_divide_takes_the_worst_case(tmp_path):
    assert cost(tmp_path, lines("sdiv r1, r2, r3", "udiv r4, r5, r3")) == 2 * DIV_WORST


def test_branches_taken_and_not_taken(tmp_path):
    # A taken branch costs 1 + P; a conditional branch not taken 1.
    assert cost(tmp_path, lines("b 1f", "nop", "1:")) == 1 + P4
    assert cost(tmp_path, lines("cmp r0, r0", "bne 1f", "nop", "1:")) == ALU + 1 + ALU
    assert cost(tmp_path, lines("cmp r0, r0", "beq 1f", "nop", "1:")) == ALU + 1 + P4
    assert cost(tmp_path, lines("cmp r0, r0", "cbz r1, 1f", "nop", "1:")) == ALU + 1 + ALU
    # BL to a function that returns with BX LR: two taken branches.
    assert cost(tmp_path, lines("bl helper")) == (1 + P4) + (1 + P4)
    # IT and its conditional instruction take a cycle each.
    assert cost(tmp_path, lines("cmp r0, r0", "it eq", "moveq r1, r2")) == 3 * ALU


def test_instructions_at_the_end_of_a_page(tmp_path):
    # QEMU ends a block at each 1 KB page; the last instruction of the page is decoded
    # from its own bytes (QEMU also hands the plugin the halfword it read ahead).
    sequence = lines("b 1f", ".balign 1024", ".space 1020", "1:", "ldr r1, [r0]",
                     "ldr r2, [r0, #4]", "adds r1, #1")
    assert cost(tmp_path, sequence) == (1 + P4) + LOAD + PIPELINED + ALU


def test_a_counted_loop(tmp_path):
    k = 10
    loop = lines(f"movs r4, #{k}", "1:", "subs r4, #1", "bne 1b")
    # SUBS + BNE per iteration; the branch is taken on all but the last.
    assert cost(tmp_path, loop) == ALU + k * (ALU + 1) + (k - 1) * P4


def test_floating_point(tmp_path):
    # Cortex-M4 TRM, FPU instruction timings: VDIV 14, VMLA 3, VLDR 2, VADD 1.
    assert cost(tmp_path, lines("vdiv.f32 s0, s1, s2")) == 14
    assert cost(tmp_path, lines("vmla.f32 s0, s1, s2", "vadd.f32 s3, s4, s5")) == 3 + 1
    assert cost(tmp_path, lines("vldr s0, [r0]", "vpush {s0-s3}")) == 2 + (1 + 4)


def test_cortex_m3_multiplies(tmp_path):
    # Cortex-M3 TRM: MLA 2, long multiplies 3-5 and 4-7 by operands (worst case).
    assert cost(tmp_path, lines("mla r1, r2, r3, r1"), target="cortex-m3") == 2
    assert cost(tmp_path, lines("smull r1, r2, r3, r4", "umlal r1, r2, r3, r4"),
                target="cortex-m3") == 5 + 7


def test_cortex_m0plus(tmp_path):
    """Cortex-M0+ TRM table 3-1 (ARMv6-M code, run on QEMU's Cortex-M3 model): loads and
    stores 2 cycles, never pipelined, no address interlock; LDM/STM/PUSH/POP 1 + N; MULS 1;
    a taken branch 2, one not taken 1."""
    m0 = {"target": "cortex-m0plus"}
    n = 6
    loads = [f"ldr r{1 + i % 6}, [r0, #{4 * i}]" for i in range(n)]
    assert cost(tmp_path, lines(*loads), **m0) == n * 2
    assert cost(tmp_path, lines("str r1, [r0]", "ldr r2, [r0, #4]"), **m0) == 2 + 2
    assert cost(tmp_path, lines("adds r1, r0, #4", "ldr r2, [r1]"), **m0) == 1 + 2
    assert cost(tmp_path, lines("ldm r0!, {r1, r2, r3}"), **m0) == 1 + 3
    assert cost(tmp_path, lines("push {r4-r7}", "pop {r4-r7}"), **m0) == 2 * (1 + 4)
    assert cost(tmp_path, lines("muls r1, r2, r1", "lsls r3, r3, #2"), **m0) == 1 + 1
    assert cost(tmp_path, lines("b 1f", "nop", "1:"), **m0) == 2
    assert cost(tmp_path, lines("cmp r0, r0", "bne 1f", "nop", "1:"), **m0) == 1 + 1 + 1
    assert cost(tmp_path, lines("cmp r0, r0", "beq 1f", "nop", "1:"), **m0) == 1 + 2


def test_cortex_m7_pairs_single_cycle_instructions(tmp_path):
    # The coarse model: adjacent single-cycle instructions issue in pairs.
    k = 8
    adds = [f"adds r{1 + i % 4}, r{1 + i % 4}, #1" for i in range(k)]
    assert cost(tmp_path, lines(*adds), target="cortex-m7") == k // 2
    assert cost(tmp_path, lines("sdiv r1, r2, r3", "adds r1, #1"), target="cortex-m7") == 12 + 1


def test_flash_wait_states_on_data_loads(tmp_path):
    # 16 words from flash fill 8 lines of the data cache (64-bit lines): each fill costs
    # the wait states; the same loads from RAM cost none. The code is the same image.
    w = 3
    loads = lines(*[f"ldr r{1 + i % 6}, [r0, #{4 * i}]" for i in range(16)])
    from_flash = cycles_of(tmp_path, loads, wait_states=w, table="flash_words")
    from_ram = cycles_of(tmp_path, loads, wait_states=w, table="ram_words")
    assert from_flash - from_ram == (16 * 4 // 8) * w
    # Without wait states flash and RAM cost the same.
    assert cycles_of(tmp_path, loads, table="flash_words") == cycles_of(tmp_path, loads)


def test_flash_wait_states_on_code_are_paid_once_per_cached_line(tmp_path):
    w = 3

    def loop(k):
        return lines(f"movs r4, #{k}", "1:", "subs r4, #1", "bne 1b")

    # The loop body stays in the instruction cache: more iterations cost what they cost
    # without wait states, and the misses cost a whole number of wait states.
    extra = cycles_of(tmp_path, loop(20), wait_states=w) - cycles_of(tmp_path, loop(10),
                                                                    wait_states=w)
    assert extra == 10 * (ALU + 1 + P4)
    misses = cycles_of(tmp_path, loop(10), wait_states=w) - cycles_of(tmp_path, loop(10))
    assert misses > 0 and misses % w == 0


@pytest.mark.parametrize("text, hz", [("80MHz", 80_000_000), ("120 MHz", 120_000_000),
                                      ("4.8e7", 48_000_000), ("16000000", 16_000_000),
                                      ("32.768kHz", 32_768), ("1GHz", 1_000_000_000)])
def test_parse_clock(text, hz):
    assert parse_clock(text) == hz


@pytest.mark.parametrize("text", ["fast", "80 MB", "-5MHz", "0", "MHz", ""])
def test_parse_clock_refuses_nonsense(text):
    with pytest.raises(TinyEdgeError, match="cannot read clock"):
        parse_clock(text)
