"""Resolved configs as flat ``{'a.b.0.c': value}`` dicts, to compare two
configs key by key (the ablation's controls, the FSDP configs)."""


def flatten(value, prefix=''):
    """Dicts and lists of dicts flattened; other values are leaves."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f'{prefix}{key}.'))
        return out
    if isinstance(value, (list, tuple)) and any(
            isinstance(v, dict) for v in value):
        out = {}
        for i, item in enumerate(value):
            out.update(flatten(item, f'{prefix}{i}.'))
        return out
    return {prefix[:-1]: value}
