"""User-facing errors: the CLI prints their message as one line and exits non-zero."""


class VidstyleError(Exception):
    """An error caused by the user's input or environment, with a message that says what to do."""

    exit_code = 2


class InputError(VidstyleError):
    """A missing, unreadable, corrupt or unsupported input."""


class OutputError(VidstyleError):
    """An output that cannot be written (unwritable folder, full disk, would overwrite the input)."""


class ModelError(VidstyleError):
    """A model file that is missing, corrupt, foreign or incompatible."""


class DeviceError(VidstyleError):
    """A requested device or backend that is not available."""
