"""``benchmarks/run_all.py --tiny``: one JSON with every ratio the issue
asks for, each a positive finite number (2-block models, seconds)."""
import json
import math

from tool_runner import run_tool

OBJECTIVES = ('cosine', 'contrastive', 'mixing', 'all_diversity',
              'token_labeling', 'mixtoken')
KEYS = {
    'step_time_ratio_suite_vs_timm',
    *(f'step_time_ratio_{o}_vs_baseline' for o in OBJECTIVES),
    *(f'activation_memory_ratio_{o}_vs_baseline' for o in OBJECTIVES),
    'loader_throughput_ratio_token_labels_vs_plain',
    'loader_throughput_ratio_token_labels_per_sample_vs_plain',
    'loader_throughput_ratio_three_augment_vs_plain',
    'upernet_inference_throughput_ratio_slide_vs_whole',
    'diverse_encoder_decoder_step_time_ratio',
}


def test_run_all_tiny_writes_every_ratio(tmp_path):
    out = tmp_path / 'bench.json'
    proc = run_tool(['benchmarks/run_all.py', '--tiny', '--json', str(out)],
                    timeout=300, env={'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert set(result) == KEYS | {'settings'}
    for key in KEYS:
        assert isinstance(result[key], float), key
        assert math.isfinite(result[key]) and result[key] > 0, key
    # the objectives keep more tensors for backward than the plain model:
    # the all-three objective at least its similarity and patch logits,
    # the dense head its (B, N, K) logits
    assert result['activation_memory_ratio_all_diversity_vs_baseline'] > 1
    assert result['activation_memory_ratio_token_labeling_vs_baseline'] > 1
    assert result['settings']['size'] == 'tiny'
    assert 'step_time_ratio_suite_vs_timm: ' in proc.stdout
