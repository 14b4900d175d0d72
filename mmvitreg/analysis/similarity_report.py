"""Writing per-layer similarity curves: CSV, JSON, PNG and a text table.

``results`` is a list of ``(label, result)`` pairs, ``result`` as returned
by :func:`mmvitreg.analysis.checkpoint_similarity.checkpoint_similarity`.
"""
import csv
import json
from typing import Dict, Sequence, Tuple

Results = Sequence[Tuple[str, Dict]]


def write_csv(path: str, results: Results) -> None:
    """One ``label, layer, similarity`` row per block and checkpoint."""
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['label', 'layer', 'similarity'])
        for label, res in results:
            for layer, value in enumerate(res['similarity']):
                writer.writerow([label, layer, f'{value:.6f}'])


def write_json(path: str, results: Results, split: str,
               num_images: int, final_norm: bool) -> None:
    """The measurement settings and every result, labelled."""
    payload = dict(
        split=split,
        num_images_requested=num_images,
        final_norm=final_norm,
        results=[dict(label=label, **res) for label, res in results])
    with open(path, 'w') as f:
        json.dump(payload, f, indent=2)


def write_plot(path: str, results: Results) -> None:
    """One line per checkpoint: similarity against block index."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 4))
    lowest = 0.0
    for label, res in results:
        curve = res['similarity']
        ax.plot(range(len(curve)), curve, marker='o', label=label)
        lowest = min(lowest, *curve)
    ax.set_xlabel('block index')
    ax.set_ylabel('mean pairwise cosine similarity of patches')
    # cosine similarities of N patches are >= -1/(N-1): show rare negatives
    ax.set_ylim(0 if lowest >= 0 else lowest - 0.02, 1)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def format_table(results: Results) -> str:
    """Blocks as rows, checkpoints as columns, 4 decimals."""
    labels = [label for label, _ in results]
    depth = max(len(res['similarity']) for _, res in results)
    width = max(10, *(len(label) for label in labels))
    lines = ['layer ' + ' '.join(label.rjust(width) for label in labels)]
    for layer in range(depth):
        cells = []
        for _, res in results:
            curve = res['similarity']
            cells.append((f'{curve[layer]:.4f}' if layer < len(curve) else
                          '-').rjust(width))
        lines.append(f'{layer:>5} ' + ' '.join(cells))
    return '\n'.join(lines)
