"""Named targets: compiler flags and the device budgets a model must fit."""
from __future__ import annotations

from dataclasses import dataclass

from tinyedge.errors import TinyEdgeError


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    cflags: tuple[str, ...]
    ram_bytes: int | None  # None: no budget
    flash_bytes: int | None
    # Folders under kernels/src/ whose sources replace the reference kernel of the
    # same file name in a firmware build for this target, searched in order.
    kernel_dirs: tuple[str, ...] = ()


KB = 1024
TARGETS = {t.name: t for t in [
    Target("generic", "portable C99, no budget", (), None, None),
    Target("cortex-m0plus", "Cortex-M0+ (ARMv6-M)", ("-mcpu=cortex-m0plus", "-mthumb"),
           256 * KB, 1024 * KB),
    Target("cortex-m3", "Cortex-M3 (ARMv7-M)", ("-mcpu=cortex-m3", "-mthumb"),
           1024 * KB, 2048 * KB),
    Target("cortex-m4", "Cortex-M4F (ARMv7E-M, DSP)",
           ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
           1024 * KB, 2048 * KB, ("armv7em",)),
    Target("cortex-m7", "Cortex-M7 (ARMv7E-M, DSP)",
           ("-mcpu=cortex-m7", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv5-d16"),
           1024 * KB, 2048 * KB, ("armv7em",)),
    # The M55 has the DSP extension too: the ARMv7E-M kernels run on it unchanged
    # where it has no Helium (MVE) one.
    Target("cortex-m55", "Cortex-M55 (ARMv8.1-M, DSP, Helium)",
           ("-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"), 1024 * KB, 2048 * KB,
           ("mve", "armv7em")),
    # Device classes: a core with the budget the model may take of a typical part.
    Target("earbud", "earbud class: Cortex-M4F, 1 MB RAM, 2 MB flash",
           ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
           1024 * KB, 2048 * KB, ("armv7em",)),
    Target("wearable", "wearable class: Cortex-M4F, 512 KB RAM, 1 MB flash",
           ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"),
           512 * KB, 1024 * KB, ("armv7em",)),
    Target("sensor", "sensor class: Cortex-M0+, 256 KB RAM, 512 KB flash",
           ("-mcpu=cortex-m0plus", "-mthumb"), 256 * KB, 512 * KB),
]}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise TinyEdgeError(f"unknown target '{name}' (known: {', '.join(TARGETS)})")
    return TARGETS[name]
