"""tools/generate_token_labels.py and the dense annotator on digits."""
import importlib.util
import os
import os.path as osp
import shutil

import mmcv
import numpy as np
import pytest
import timm
import torch
from mmpretrain.apis import get_model
from tiny_vit import tiny_vit_backbone
from tool_runner import ROOT, torchrun

from mmvitreg.structures.token_labels import CorruptShardError, TokenLabelStore
from mmvitreg.token_labels import DenseAnnotator, annotator_models

TOOL = osp.join(ROOT, 'tools', 'generate_token_labels.py')

VIT_CONFIG = f"""
model = dict(
    type='ImageClassifier',
    backbone={tiny_vit_backbone(patch_size=8)!r},
    neck=None,
    head=dict(type='VisionTransformerClsHead', num_classes=10,
              in_channels=32, hidden_dim=16),
    data_preprocessor=dict(
        type='ClsDataPreprocessor', num_classes=10,
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        to_rgb=True))
"""
TIMM_KWARGS = dict(
    img_size=32, patch_size=8, depth=2, embed_dim=32, num_heads=2)


def load_tool():
    spec = importlib.util.spec_from_file_location('gen_token_labels', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


tool = load_tool()


@pytest.fixture(scope='module')
def vit(tmp_path_factory):
    """Tiny mmpretrain ViT classifier config + checkpoint (random head)."""
    d = tmp_path_factory.mktemp('vit')
    cfg = d / 'vit.py'
    cfg.write_text(VIT_CONFIG)
    torch.manual_seed(0)
    model = get_model(str(cfg))
    for p in model.head.parameters():  # the head is zero-initialised
        torch.nn.init.normal_(p)
    ckpt = d / 'vit.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    return str(cfg), str(ckpt)


def run(vit, digits_root, out, *extra, limit=24):
    argv = [*vit, '--data-root', osp.join(digits_root, 'imagenet'),
            '--out', str(out), '--limit', str(limit), '--topk', '3',
            '--batch-size', '8', '--shard-size', '8', '--workers', '0',
            *extra]
    return tool.main(argv)


@pytest.fixture(scope='module')
def base_store(vit, digits_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('gen') / 'store'
    assert run(vit, digits_root, out) == 0
    return str(out)


def test_vit_dense_scores_are_head_on_each_patch_token(vit):
    model = get_model(vit[0], pretrained=vit[1])
    x = torch.randn(2, 3, 32, 32)
    dense = DenseAnnotator(model, topk=3)
    scores = dense.score_map(x)
    assert scores.shape == (2, 10, 4, 4)
    model.backbone.out_type = 'raw'
    tokens = model.backbone(x)[-1]  # (B, 1 + 16, C), cls token first
    model.backbone.out_type = 'cls_token'
    for r, c in [(0, 0), (1, 2), (3, 1)]:  # patch (r, c) = token 1 + 4r + c
        torch.testing.assert_close(scores[:, :, r, c],
                                   model.head.layers(tokens[:, 1 + 4 * r + c]))
    top_s, top_i = dense(x)
    ref = scores.topk(3, dim=1)
    torch.testing.assert_close(top_s, ref.values)
    assert torch.equal(top_i, ref.indices)
    assert model.backbone.out_type == 'cls_token'  # restored


def test_cnn_dense_scores_average_to_the_logits():
    """GAP + linear head: the mean of the dense map is the image logit."""
    model = timm.create_model('resnet18', pretrained=False,
                              num_classes=10).eval()
    x = torch.randn(2, 3, 64, 64)
    scores = DenseAnnotator(model).score_map(x)
    assert scores.shape == (2, 10, 2, 2)
    torch.testing.assert_close(scores.mean((2, 3)), model(x))


def test_generated_labels_match_the_annotator(vit, digits_root, base_store):
    store = TokenLabelStore(base_store)
    with open(osp.join(digits_root, 'imagenet/meta/train.txt')) as f:
        keys = [line.split()[0] for line in f][:24]
    assert sorted(store.keys()) == sorted(keys)
    assert store.topk == 3 and store.num_classes == 10
    assert store.meta['resolution'] == 32  # the ViT's img_size
    assert len(store.index['shards']) == 3  # 24 images / 8 per shard
    # recompute one image by hand: BGR 32x32 -> preprocessor -> annotator
    model = get_model(vit[0], pretrained=vit[1])
    img = mmcv.imread(osp.join(digits_root, 'imagenet/train', keys[5]))
    x = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(img).permute(2, 0, 1)]))['inputs']
    ref_s, ref_i = DenseAnnotator(model, topk=3)(x)
    s, i = store[keys[5]]
    assert s.shape == (3, 4, 4)
    np.testing.assert_array_equal(i, ref_i[0].numpy())
    np.testing.assert_allclose(s, ref_s[0].numpy(), rtol=1e-3, atol=1e-3)
    assert tool.main([*vit, '--data-root', osp.join(digits_root, 'imagenet'),
                      '--out', base_store, '--limit', '24', '--verify']) == 0


def _mtimes(store):
    d = osp.join(store, 'shards')
    return {n: os.stat(osp.join(d, n)).st_mtime_ns for n in os.listdir(d)}


def test_resume_writes_only_missing_images(vit, digits_root, base_store,
                                           tmp_path, capsys):
    out = str(tmp_path / 'store')
    shutil.copytree(base_store, out)
    shards = osp.join(out, 'shards')
    lost = TokenLabelStore(out).index['shards'][1]['name']
    lost_keys = [k for k, v in TokenLabelStore(out).index['images'].items()
                 if v[0] == 1]
    os.remove(osp.join(shards, lost))
    os.remove(osp.join(shards, lost[:-4] + '.json'))
    # leftovers of an interrupted write: a temp file and an orphan shard
    open(osp.join(shards, 'r000-000007.bin.tmp.123'), 'wb').close()
    open(osp.join(shards, 'r000-000008.bin'), 'wb').close()
    before = _mtimes(out)
    capsys.readouterr()
    assert run(vit, digits_root, out, limit=24) == 0
    log = capsys.readouterr().out
    assert '16 of 24 images already' in log and 'annotating 8 ' in log
    after = _mtimes(out)
    kept = {n for n in before if n[:11] in ('r000-000000', 'r000-000002')}
    assert len(kept) == 4 and all(after[n] == before[n] for n in kept)
    new = sorted(set(after) - set(before))
    # leftovers removed first, so numbering continues after shard 2
    assert new == ['r000-000003.bin', 'r000-000003.json']
    assert 'r000-000007.bin.tmp.123' not in after
    assert 'r000-000008.bin' not in after
    store = TokenLabelStore(out)
    assert len(store) == 24
    assert {k for k, v in store.index['images'].items()
            if store.index['shards'][v[0]]['name'] == new[0]} == set(
                lost_keys)
    # the redone labels equal the originals
    ref = TokenLabelStore(base_store)
    for k in lost_keys:
        np.testing.assert_array_equal(store[k][1], ref[k][1])


def test_verify_names_missing_image(vit, digits_root, base_store, capsys):
    with open(osp.join(digits_root, 'imagenet/meta/train.txt')) as f:
        key25 = [line.split()[0] for line in f][24]
    capsys.readouterr()
    rc = tool.main([*vit, '--data-root', osp.join(digits_root, 'imagenet'),
                    '--out', base_store, '--limit', '25', '--verify'])
    out = capsys.readouterr().out
    assert rc == 1
    assert f'missing token label: {key25}' in out and '1 problem(s)' in out


def test_corrupt_shard_refused_then_redone(vit, digits_root, base_store,
                                           tmp_path, capsys):
    out = str(tmp_path / 'store')
    shutil.copytree(base_store, out)
    shard = osp.join(out, 'shards', 'r000-000002.bin')
    with open(shard, 'r+b') as f:
        f.truncate(100)
    store = TokenLabelStore(out)
    key = next(k for k, v in store.index['images'].items() if v[0] == 2)
    with pytest.raises(CorruptShardError, match='r000-000002.bin'):
        store[key]
    capsys.readouterr()
    argv = [*vit, '--data-root', osp.join(digits_root, 'imagenet'), '--out',
            out, '--limit', '24']
    assert tool.main([*argv, '--verify']) == 1
    assert f'token-label shard {shard} is corrupt' in capsys.readouterr().out
    # generation sets the damaged shard aside and redoes its 8 images
    assert run(vit, digits_root, out) == 0
    assert 'annotating 8 ' in capsys.readouterr().out
    assert osp.exists(shard + '.corrupt')
    assert tool.main([*argv, '--verify']) == 0


def test_timm_model_with_local_checkpoint(digits_root, tmp_path):
    torch.manual_seed(0)
    model = timm.create_model(
        'vit_tiny_patch16_224', pretrained=False, num_classes=10,
        **TIMM_KWARGS)
    ckpt = str(tmp_path / 'vit_tiny.pth')
    torch.save(model.state_dict(), ckpt)
    out = str(tmp_path / 'timm_store')
    kwargs = [f'{k}={v}' for k, v in TIMM_KWARGS.items()]
    assert run(('vit_tiny_patch16_224', ckpt), digits_root, out,
               '--model-kwargs', *kwargs, limit=8) == 0
    store = TokenLabelStore(out)
    assert len(store) == 8 and store.num_classes == 10  # from the checkpoint
    key = store.keys()[0]
    s, i = store[key]
    assert s.shape == (3, 4, 4)
    # same numbers as the model: RGB, timm mean/std, 4x4 patch tokens
    img = mmcv.imread(osp.join(digits_root, 'imagenet/train', key),
                      channel_order='rgb')
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    mean = torch.tensor(model.pretrained_cfg['mean']).view(1, 3, 1, 1)
    std = torch.tensor(model.pretrained_cfg['std']).view(1, 3, 1, 1)
    with torch.no_grad():
        tokens = model.forward_features((x - mean) / std)[:, 1:]
        ref = model.head(tokens).transpose(1, 2).reshape(1, 10, 4, 4)
    np.testing.assert_array_equal(i, ref.topk(3, dim=1).indices[0].numpy())
    np.testing.assert_allclose(s, ref.topk(3, dim=1).values[0].numpy(),
                               rtol=1e-3, atol=1e-3)


def test_bad_model_name(digits_root, tmp_path):
    with pytest.raises(ValueError, match='no_such_model'):
        run(('no_such_model', ), digits_root, tmp_path / 's')
    with pytest.raises(FileNotFoundError, match='missing.py'):
        run((str(tmp_path / 'missing.py'), ), digits_root, tmp_path / 's')


def test_two_processes_write_the_same_labels(vit, digits_root, base_store,
                                             tmp_path):
    out = str(tmp_path / 'dist_store')
    rc, log = torchrun(
        [TOOL, *vit, '--data-root', osp.join(digits_root, 'imagenet'),
         '--out', out, '--limit', '24', '--topk', '3', '--batch-size', '8',
         '--shard-size', '8', '--workers', '0'], timeout=300)
    assert rc == 0, log[-4000:]
    assert 'with 2 process(es)' in log
    names = sorted(os.listdir(osp.join(out, 'shards')))
    assert [n for n in names if n.endswith('.bin')] == [
        'r000-000000.bin', 'r000-000001.bin', 'r001-000000.bin',
        'r001-000001.bin'
    ]  # 12 images per process, 8 per shard
    one, two = TokenLabelStore(base_store), TokenLabelStore(out)
    assert sorted(one.keys()) == sorted(two.keys())
    for k in one.keys():
        np.testing.assert_array_equal(one[k][1], two[k][1])
        np.testing.assert_allclose(
            one[k][0].astype(np.float32), two[k][0].astype(np.float32),
            rtol=1e-3, atol=1e-3)


def test_cnn_config_is_annotated_at_its_test_crop(tmp_path):
    """A CNN has no patch embedding to read a size from: the annotation
    size is the config's test crop (the demo annotator's 32 px), not 224."""
    from mmengine.config import Config
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/demo/resnet_tiny_digits_annotator.py'))
    assert annotator_models.test_crop_size(cfg) == 32
    model, _, size = annotator_models.build_mmpretrain(
        osp.join(ROOT, 'configs/demo/resnet_tiny_digits_annotator.py'),
        None, 'cpu')
    assert size == 32
    # the CIFAR ResNet's stride 8: a 4x4 map, the tiny ViTs' token grid
    scores, _ = DenseAnnotator(model, topk=5)(torch.zeros(1, 3, 32, 32))
    assert scores.shape == (1, 5, 4, 4)
    # no CenterCrop: the Resize; nothing: the default
    resize_only = Config(dict(test_dataloader=dict(
        dataset=dict(pipeline=[dict(type='Resize', scale=(48, 48))]))))
    assert annotator_models.test_crop_size(resize_only) == 48
    assert annotator_models.test_crop_size(Config()) == 224


def test_wrong_checkpoint_fails_naming_the_file(vit, digits_root, tmp_path):
    """The annotator loads strictly, with the suite's one error class."""
    from mmvitreg.cli.checkpoint_check import CheckpointMismatchError
    state = torch.load(vit[1], map_location='cpu', weights_only=False)
    weights = state['state_dict']
    weights['head.classifier.weight'] = weights.pop('head.layers.head.weight')
    bad = str(tmp_path / 'renamed.pth')
    torch.save(state, bad)
    with pytest.raises(CheckpointMismatchError) as info:
        run((vit[0], bad), digits_root, tmp_path / 's')
    for text in (bad, 'head.classifier.weight', 'head.layers.head.weight'):
        assert text in str(info.value)
