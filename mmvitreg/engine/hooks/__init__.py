"""Hooks registered into mmengine/mmpretrain HOOKS."""
