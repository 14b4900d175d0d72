"""Helpers every layer may use (config loading, finiteness checks); they
import nothing from the rest of mmvitreg but ``compat``."""
