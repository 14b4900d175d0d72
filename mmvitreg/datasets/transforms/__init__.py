"""Data transforms registered into mmpretrain pipelines."""
