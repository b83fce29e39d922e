"""The errors ganedu raises on purpose.

Each one carries a message meant for a person: what went wrong and what to do next.
The CLI prints such a message as a single line and exits non-zero; anything else is a bug.
"""


class GaneduError(Exception):
    """Base class: an expected failure with a readable message."""


class DataError(GaneduError):
    """A dataset is missing, unknown, or a file fails its checksum."""


class CheckpointError(GaneduError):
    """A checkpoint is missing, corrupt, or would need to run code to load."""


class TrainingDiverged(GaneduError):
    """A loss became NaN or infinite; training stopped, the last good checkpoint is kept."""


class DiskFullError(GaneduError):
    """A write ran out of disk space (or quota); what was on disk before it is intact."""


class UnknownModelError(GaneduError):
    """A model name that ganedu does not know."""
