"""Cycle estimates for Cortex-M cores: the timing tables the QEMU plugin
(tools/qemu_icount/te_icount.c) weighs each executed instruction with, the
flash wait-state model, and clock parsing. docs/cycles.md describes the model.

    timings = CORE_TIMINGS["cortex-m4"]
    lines = plugin_config(timings, FlashModel(0x0, 0x400000, wait_states=5))
    parse_clock("80MHz") == 80_000_000
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from tinyedge.errors import TinyEdgeError

DEFAULT_CLOCK_HZ = 100_000_000  # a round figure: 100 000 cycles per millisecond


@dataclass(frozen=True)
class CoreTimings:
    """Cycles per instruction class (the plugin's class names), as a core's
    Technical Reference Manual gives them with zero wait states. A multiple
    load/store costs its entry plus one per register (word) moved."""
    core: str
    costs: dict[str, int]
    refill: int  # P: pipeline refill after a taken branch (the TRM gives 1 to 3)
    pipelined_saving: int = 1  # a load/store pipelined behind a load
    # A load/store whose address register the data-processing instruction just before
    # it wrote waits for the register bank (no forwarding path on the M3/M4).
    address_interlock: int = 1
    dual_issue: bool = False
    notes: str = ""


# Cortex-M4 TRM (ARM 100166), table 3-1 "Processor instruction set summary" and
# 3.3.2 "Load/store timings"; FPU timings from its FPU chapter (VMLA 3, VDIV 14).
# Divides take 2 to 12 cycles by operands; the worst case is taken. P = 2 (the
# middle of the TRM's 1 to 3).
CORTEX_M4 = CoreTimings(
    "cortex-m4",
    {"alu": 1, "branch": 1, "mul": 1, "mla": 1, "mull": 1, "mlal": 1, "dsp_mul": 1, "div": 12,
     "load": 2, "store": 2, "load_store_double": 3, "load_store_multiple": 1,
     "table_branch": 2, "fp": 1, "fp_mac": 3, "fp_div": 14, "fp_load_store": 2,
     "fp_load_store_multiple": 1},
    refill=2,
    notes="Cortex-M4 TRM timings")

# Cortex-M3 TRM (ARM DDI 0337), table 3-1: MLA/MLS 2, long multiplies 3-5 and
# 4-7 by operands (worst case taken), no DSP or FPU instructions.
CORTEX_M3 = CoreTimings(
    "cortex-m3", {**CORTEX_M4.costs, "mla": 2, "mull": 5, "mlal": 7},
    refill=2, notes="Cortex-M3 TRM timings")

# Cortex-M7: a coarser model. Loads and stores are single-cycle (TCM, or cache
# hits), an adjacent pair of single-cycle instructions issues together (register
# dependencies are not checked, so it flatters dependent pairs; no address interlock),
# and the branch predictor leaves a taken branch one refill cycle.
CORTEX_M7 = CoreTimings(
    "cortex-m7",
    {**CORTEX_M4.costs, "load": 1, "store": 1, "load_store_double": 1, "fp_load_store": 1},
    refill=1, pipelined_saving=0, address_interlock=0, dual_issue=True,
    notes="coarse Cortex-M7 model (dual issue without dependency checks)")

# Cortex-M0+ TRM (ARM DDI 0484), table 3-1: a two-stage pipeline; loads and stores take
# 2 cycles and never pipeline, LDM/STM/PUSH/POP 1 + N, MULS 1 (the single-cycle
# multiplier most parts have; 32 with the small one), a taken branch 2 (P = 1). BL (3)
# and POP {.., PC} (3 + N) come out one cycle short. ARMv6-M has no divide, long
# multiply, DSP or FPU instruction, so the other classes never occur.
CORTEX_M0PLUS = CoreTimings(
    "cortex-m0plus", {**CORTEX_M3.costs, "load": 2, "store": 2, "mul": 1},
    refill=1, pipelined_saving=0, address_interlock=0,
    notes="Cortex-M0+ TRM timings")

CORE_TIMINGS = {t.core: t for t in (CORTEX_M0PLUS, CORTEX_M3, CORTEX_M4, CORTEX_M7)}


@dataclass(frozen=True)
class FlashModel:
    """Wait states of code and constants in flash, behind an ST ART-like
    accelerator: an instruction cache and a data cache of flash lines
    (direct-mapped). Each line fetched from flash into either cache costs the
    wait states; hits cost nothing; the prefetch buffer is not modelled, so
    straight-line code not yet cached pays each line. The defaults are the
    STM32L4+ ART accelerator's sizes, in lines of the flash's 64-bit read."""
    low: int
    high: int
    wait_states: int = 0
    line_bytes: int = 8
    icache_bytes: int = 1024
    dcache_bytes: int = 256


# STM32L4R5 (the MLPerf Tiny reference board) at 120 MHz, voltage range 1 boost:
# 5 flash wait states (RM0432, "Number of wait states according to CPU clock").
STM32L4R5_WAIT_STATES_120MHZ = 5


def plugin_config(timings: CoreTimings, flash: FlashModel) -> list[str]:
    """The plugin's cfg lines of the cycle model."""
    lines = [f"cost {name} {cycles}" for name, cycles in timings.costs.items()]
    lines += [f"refill {timings.refill}", f"pipelined_saving {timings.pipelined_saving}",
              f"address_interlock {timings.address_interlock}",
              f"dual_issue {int(timings.dual_issue)}",
              f"flash {flash.low:x} {flash.high:x}", f"wait_states {flash.wait_states}",
              f"icache {flash.icache_bytes // flash.line_bytes} {flash.line_bytes}",
              f"dcache {flash.dcache_bytes // flash.line_bytes} {flash.line_bytes}"]
    return lines


_CLOCK = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgG]?)(?:[hH][zZ])?\s*$")
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}


def parse_clock(text: str | float | int) -> int:
    """A clock frequency in Hz from '80MHz', '120 MHz', '48e6', '4.8e7' or 16000000."""
    match = _CLOCK.match(str(text))
    hz = float(match.group(1)) * _SCALE[match.group(2).lower()] if match else 0.0
    if not match or not 1e3 <= hz <= 10e9:
        raise TinyEdgeError(f"cannot read clock '{text}': give a frequency such as 80MHz, "
                            "120 MHz or 4.8e7 (between 1 kHz and 10 GHz)")
    return int(round(hz))


def latency_ms(cycles: int, clock_hz: int) -> float:
    return cycles / clock_hz * 1e3
