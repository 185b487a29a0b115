"""The errors tinyedge raises. The CLI prints each in one line and exits non-zero."""


class TinyEdgeError(Exception):
    """Base of every error a user can cause; its message says what to do."""

    exit_code = 1


class ModelFormatError(TinyEdgeError):
    """The file is not a readable TFLite flatbuffer, or it is inconsistent."""

    exit_code = 3


class UnsupportedModelError(TinyEdgeError):
    """The model is valid TFLite but uses ops, types or options tinyedge does not compile."""

    exit_code = 4


class BudgetError(TinyEdgeError):
    """The model does not fit the RAM or flash budget of its target."""

    exit_code = 5


class BuildError(TinyEdgeError):
    """A C compiler run failed."""

    exit_code = 6


class VerificationError(TinyEdgeError):
    """The generated C disagrees with TFLite Micro."""

    exit_code = 7


class FirmwareMismatchError(VerificationError):
    """The firmware's outputs on the emulated target differ from the host run."""


class ToolchainError(TinyEdgeError):
    """A tool the firmware build or run needs (arm-none-eabi-gcc, QEMU) is missing."""

    exit_code = 8


class EmulatorError(TinyEdgeError):
    """The firmware did not run to its end under QEMU (timeout, fault, failed invoke)."""

    exit_code = 9
