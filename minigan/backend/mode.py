"""The reference-mode switch, read by every fast path (see ``minigan.reference_mode``)."""
import os


class _Switch:
    __slots__ = ("on",)

    def __init__(self, on):
        self.on = on


# on: minigan computes only its plain formulas (MINIGAN_REFERENCE=1 sets it for a process)
reference = _Switch(os.environ.get("MINIGAN_REFERENCE", "0") not in ("", "0"))
