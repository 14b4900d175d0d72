"""OpenMMLab's own inference entry points on the suite's trained demo
models, and the tools built on them: ``tools/infer.py`` and ``tools/test.py
--show-dir/--interval``.

Each segmentation demo config is trained one iteration through
``tools/train.py`` (random backbone), then evaluated by ``tools/test.py
--out``; mmseg's ``inference_model`` and ``MMSegInferencer`` must give the
same mask as that PNG for the same image (ADE20K layout: the PNG stores
class index + 1, ``reduce_zero_label``; the digits Cityscapes layout: the
class index).
"""
import glob
import os.path as osp
import pickle

import numpy as np
import pytest
import torch
from PIL import Image
from tool_runner import (
    ADE_CONFIG,
    CITYSCAPES_CONFIG,
    CLS_CONFIG,
    SWIN_ADE_CONFIG,
    data_options,
    run_tool,
)

DEIT3_ADE_CONFIG = 'configs/demo/upernet_deit3_tiny_digits_ade20k.py'
#: segmentation demo config -> (digits layout, value the PNG adds)
SEG_CONFIGS = {ADE_CONFIG: ('ade', 1), CITYSCAPES_CONFIG: ('cityscapes', 0),
               SWIN_ADE_CONFIG: ('ade', 1), DEIT3_ADE_CONFIG: ('ade', 1)}
#: layout -> where its validation images are
IMAGES = {'ade': 'ade/ADEChallengeData2016/images/validation',
          'cityscapes': 'cityscapes/leftImg8bit/val/*'}
VAL_SIZE = 3


def _ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def segmenters(digits_root, tmp_path_factory):
    """Per config: (checkpoint, --cfg-options, {image path: test.py PNG},
    work dir) from a one-iteration training, evaluated by ``tools/test.py
    --out pred --show-dir show``; built when first asked for."""
    runs = {}

    def get(config):
        if config in runs:
            return runs[config]
        work = tmp_path_factory.mktemp(osp.basename(config)[:-3])
        layout = SEG_CONFIGS[config][0]
        opts = ['model.backbone.init_cfg=None', 'train_cfg.max_iters=1',
                'train_cfg.val_interval=2',
                'default_hooks.checkpoint.interval=1',
                *data_options(digits_root, layout, val_size=VAL_SIZE)]
        _ok(run_tool(['tools/train.py', config, '--work-dir', str(work),
                      '--cfg-options', *opts]))
        ckpt = str(work / 'iter_1.pth')
        _ok(run_tool(['tools/test.py', config, ckpt, '--work-dir', str(work),
                      '--out', str(work / 'pred'), '--show-dir',
                      str(work / 'show'), '--cfg-options', *opts]))
        pngs = sorted(glob.glob(str(work / 'pred' / '**' / '*.png'),
                                recursive=True))
        assert len(pngs) == VAL_SIZE
        images = {}
        for png in pngs:
            stem = osp.splitext(osp.basename(png))[0]
            found = glob.glob(osp.join(digits_root, IMAGES[layout],
                                       stem + '.*'))
            assert len(found) == 1, (stem, found)
            images[found[0]] = np.array(Image.open(png))
        runs[config] = ckpt, opts, images, work
        return runs[config]

    return get


@pytest.mark.parametrize('config', list(SEG_CONFIGS))
def test_mmseg_apis_give_the_test_tool_mask(segmenters, config):
    from mmseg.apis import MMSegInferencer, inference_model, init_model
    ckpt, _, images, _ = segmenters(config)
    offset = SEG_CONFIGS[config][1]
    model = init_model(config, ckpt, device='cpu')
    inferencer = MMSegInferencer(config, ckpt, device='cpu')
    for image, expected in images.items():
        mask = inference_model(model, image).pred_sem_seg.data[0].numpy()
        assert mask.shape == expected.shape
        np.testing.assert_array_equal(mask + offset, expected)
        mask = inferencer(image)['predictions']
        np.testing.assert_array_equal(mask + offset, expected)


def test_infer_tool_writes_masks_and_overlays(segmenters, tmp_path):
    ckpt, _, images, _ = segmenters(ADE_CONFIG)
    paths = sorted(images)
    proc = _ok(run_tool(['tools/infer.py', ADE_CONFIG, ckpt, *paths,
                         '--out-dir', str(tmp_path)]))
    for i, image in enumerate(paths):
        mask = np.array(Image.open(tmp_path / 'pred' / f'{i:08d}_pred.png'))
        np.testing.assert_array_equal(mask + 1, images[image])
        overlay = np.array(Image.open(tmp_path / 'vis' /
                                      osp.basename(image)))
        assert overlay.shape == images[image].shape + (3, )
        assert f'{image}: mask {tmp_path}/pred/{i:08d}_pred.png' in proc.stdout
    # no upstream noise: mmseg's missing function registry, the
    # inferencer's save_dir-less visualizer, CrossEntropyLoss's default
    output = proc.stdout + proc.stderr
    assert 'WARNING' not in output and 'Warning' not in output, output


def test_test_tool_show_dir_paints_every_nth_image(segmenters, tmp_path):
    ckpt, opts, _, work = segmenters(ADE_CONFIG)
    # validation scenes are ADE_val_00000001.jpg ... in loader order
    names = [f'test_ADE_val_{i + 1:08d}.jpg_0.png' for i in range(VAL_SIZE)]

    def painted(show):
        return sorted(osp.basename(p) for p in glob.glob(
            str(show / 'vis_data' / 'vis_image' / '*.png')))

    assert painted(work / 'show') == names  # no --interval: every image
    _ok(run_tool(['tools/test.py', ADE_CONFIG, ckpt, '--work-dir',
                  str(tmp_path / 'work'), '--show-dir', str(tmp_path / 'show'),
                  '--interval', '2', '--cfg-options', *opts]))
    assert painted(tmp_path / 'show') == names[::2]


@pytest.fixture(scope='module')
def classifier(digits_root, tmp_path_factory):
    """A 2-epoch demo ViT and ``tools/test.py --out``'s predictions of 3
    validation images."""
    work = tmp_path_factory.mktemp('cls')
    opts = data_options(digits_root, 'imagenet', train_size=64, val_size=3)
    _ok(run_tool(['tools/train.py', CLS_CONFIG, '--work-dir', str(work),
                  '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
                  'train_dataloader.batch_size=32', *opts]))
    ckpt = str(work / 'epoch_2.pth')
    _ok(run_tool(['tools/test.py', CLS_CONFIG, ckpt, '--work-dir', str(work),
                  '--out', str(work / 'pred.pkl'), '--show-dir',
                  str(work / 'show'), '--cfg-options', *opts]))
    with open(work / 'pred.pkl', 'rb') as f:
        predictions = pickle.load(f)
    return ckpt, work, predictions


def test_mmpretrain_inferencer_gives_the_test_tool_scores(classifier):
    from mmpretrain.apis import ImageClassificationInferencer
    ckpt, _, predictions = classifier
    inferencer = ImageClassificationInferencer(CLS_CONFIG, pretrained=ckpt,
                                               device='cpu')
    for expected in predictions:
        result = inferencer(expected['img_path'])[0]
        torch.testing.assert_close(torch.as_tensor(result['pred_scores']),
                                   expected['pred_score'])
        assert result['pred_label'] == int(expected['pred_label'])
        # class names come from the checkpoint's dataset_meta (digit names)
        assert result['pred_class'] == ['zero', 'one', 'two', 'three', 'four',
                                        'five', 'six', 'seven', 'eight',
                                        'nine'][result['pred_label']]


def test_infer_tool_prints_class_and_score(classifier, tmp_path):
    ckpt, _, predictions = classifier
    paths = [p['img_path'] for p in predictions]
    proc = _ok(run_tool(['tools/infer.py', CLS_CONFIG, ckpt, *paths,
                         '--out-dir', str(tmp_path)]))
    for expected in predictions:
        label = int(expected['pred_label'])
        score = float(expected['pred_score'][label])
        assert f'{expected["img_path"]}: ' in proc.stdout
        assert f'(class {label}) score {score:.4f}' in proc.stdout
        # mmpretrain's inferencer paints <image stem>.png into --out-dir
        stem = osp.splitext(osp.basename(expected['img_path']))[0]
        assert (tmp_path / f'{stem}.png').is_file()


def test_test_tool_show_dir_paints_every_classifier_image(classifier):
    _, work, predictions = classifier
    painted = sorted(osp.basename(p)
                     for p in glob.glob(str(work / 'show' / '*.png')))
    assert painted == sorted(osp.basename(p['img_path']) + '_0.png'
                             for p in predictions)


def test_infer_tool_names_an_unreadable_image(classifier, tmp_path):
    ckpt, _, predictions = classifier
    bad = tmp_path / 'broken.png'
    bad.write_bytes(b'not a png')
    proc = run_tool(['tools/infer.py', CLS_CONFIG, ckpt,
                     predictions[0]['img_path'], str(bad)])
    assert proc.returncode != 0
    assert f'ImageReadError: {bad}: cannot be decoded as an image' in \
        proc.stderr


def test_a_missing_image_is_named(tmp_path):
    from mmvitreg.cli.inference import ImageReadError, check_images_readable
    with pytest.raises(ImageReadError,
                       match=f'^{tmp_path}/missing.jpg: no such image file$'):
        check_images_readable([str(tmp_path / 'missing.jpg')])


def test_infer_tool_refuses_a_checkpoint_of_another_model(classifier):
    ckpt, _, predictions = classifier
    proc = run_tool(['tools/infer.py', ADE_CONFIG, ckpt,
                     predictions[0]['img_path']])
    assert proc.returncode != 0
    assert (f'CheckpointMismatchError: checkpoint {ckpt} does not match the '
            f'model (DiverseEncoderDecoder) of {ADE_CONFIG}') in proc.stderr
    assert 'missing keys in source state_dict: neck.' in proc.stderr
