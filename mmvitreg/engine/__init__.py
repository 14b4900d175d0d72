"""Training-loop extensions (hooks)."""
from . import hooks  # noqa: F401
