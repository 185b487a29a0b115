"""tinyedge: compile INT8 TFLite models into plain C99 for microcontrollers."""
from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
KERNELS_DIR = ROOT / "kernels"
TEMPLATES_DIR = ROOT / "templates"

from tinyedge.errors import TinyEdgeError  # noqa: E402
from tinyedge.api import CompiledModel, compile, load, quantize  # noqa: E402,A004

__all__ = ["CompiledModel", "TinyEdgeError", "compile", "load", "quantize", "__version__"]
