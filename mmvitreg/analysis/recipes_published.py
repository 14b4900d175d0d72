"""Published values of the full configs' recipes, with their sources.

``PUBLISHED[config][row] = (value, source)``, rows named as in
:data:`mmvitreg.analysis.recipe.KEYS`. Only values that a paper or a
release states are listed; a row without an entry has no published value
to compare with (docs/recipes.md leaves it blank). Sources are files or
sections of the public repositories named (checked at the commits stored
for this project). Where a paper and its release disagree, or the config
follows neither, the value says which one the config follows ("config
follows ..."), so that the table alone tells a reproducer what differs.
"""
DEIT = 'facebookresearch/deit main.py (defaults)'
GONG = 'ChengyueGongR/PatchVisionTransformer README.md "Train" + deit/main.py'
GONG_MAIN = 'PatchVisionTransformer deit/main.py (resume, evaluate)'
GONG_MODELS = 'PatchVisionTransformer deit/models.py'
GONG_GPUS = ('PatchVisionTransformer README.md "Train" '
             '(--nproc_per_node=XX) + deit/train.sh')
GONG_SEG = ('PatchVisionTransformer swin-segmentation/README.md "Train", '
            'configs/swin/upernet_swin_large_patch4_window12_512x512_160k_'
            'ade20k.py')
GONG_CITY = ('PatchVisionTransformer swin-segmentation/configs/swin/'
             'upernet_swin_large_patch4_window12_1025x1025_80k_cityscapes.py')
TL = 'zihangJiang/TokenLabeling README.md "Training" + main.py'
TL_LVVIT_S = ('TokenLabeling README.md "Training": the LV-ViT-S command '
              '(no DeiT-S command is published)')
TL_SEG = ('TokenLabeling seg/configs/lvvit/'
          'upernet_lvvit_s_512x512_160k_ade20k.py')
REVENGE = 'facebookresearch/deit README_revenge.md'
MMSEG_SWIN = 'mmseg configs/swin (8xb2-160k ADE20K)'
MMSEG_CITY = 'mmseg configs/upernet/upernet_r101_4xb2-80k_cityscapes-512x1024'
SWIN_A2 = 'Swin paper, Appendix A2 (22k -> 1k fine-tuning)'
SWIN_YAML = ('Swin paper A2; microsoft/Swin-Transformer configs/swin/'
             'swin_large_patch4_window12_384_22kto1k_finetune.yaml + main.py')
GONG_CITY_TEST = ('PatchVisionTransformer swin-segmentation/configs/_base_/'
                  'models/upernet_swin.py + datasets/cityscapes_1025x1025.py')
REVENGE_WARMUP = 'facebookresearch/deit README_revenge.md (--warmup-lr 1e-6)'

_DEIT_1K = {
    'image size': ('224', DEIT),
    'length': ('300 epochs', DEIT),
    'optimizer': ('AdamW', DEIT),
    'lr': ('5e-4 x batch / 512', DEIT),
    'weight decay': ('0.05', DEIT),
    'schedule': ('cosine to 1e-5', DEIT),
    'warm-up': ('5 epochs from 1e-6', DEIT),
    'augmentations': ('RandAugment rand-m9-mstd0.5-inc1, RandomErasing '
                      '0.25, Mixup 0.8, CutMix 1.0', DEIT),
    'loss': ('label smoothing 0.1', DEIT),
    'EMA': ('0.99996, on by default (set_defaults(model_ema=True)), but the '
            'raw model is evaluated and reported; config: no EMA, the same '
            'raw weights', DEIT),
    'sampler': ('repeated augmentation x3', DEIT),
}
_GONG_RELEASED = {
    'length': ('300 epochs, then resume to 400', GONG),
    'batch (per GPU x GPUs)': ('72 x XX GPUs (not given); config assumes '
                               '8, the GPU count of deit/train.sh',
                               GONG_GPUS),
    'lr': ('5e-4 x batch / 512', GONG),
    'schedule': ('cosine to 1e-7', GONG),
    'warm-up': ('5 epochs from 1e-6', GONG),
    'drop path': ('0.5, then 0.75 for epochs 300-400', GONG),
    'augmentations': ('RandAugment rand-m9-mstd0.5-inc1, CutMix only '
                      '(--mixup 0)', GONG),
    'EMA': ('0.99996; the raw model is evaluated and reported; config '
            'follows the release (EMAHook, validated on the raw weights)',
            GONG_MAIN),
    'sampler': ('no repeated augmentation', GONG),
    'model': ('deit_base_patch16_224 + talking heads (use_talk=True), '
              'dropout 0.2 before the class and patch heads '
              '(head_drop_rate=0.2); config: plain ViT, no head dropout '
              '(release not followed)', GONG_MODELS),
}
_TL = {
    'length': ('300 epochs', TL),
    'batch (per GPU x GPUs)': ('128 x 8 = 1024', TL),
    'lr': ('1.6e-3', TL),
    'weight decay': ('0.05', TL),
    'EMA': ('0.99992 (--model-ema)', TL),
    'drop path': ('0.1', TL),
}
_DEIT3 = {
    'length': ('800 epochs', REVENGE),
    'optimizer': ('LAMB (fusedlamb)', REVENGE),
    'weight decay': ('0.05', REVENGE),
    'warm-up': ('5 epochs from 1e-6', REVENGE),
    'augmentations': ('3-Augment, color jitter 0.3, Mixup 0.8, CutMix 1.0, '
                      'no erasing', REVENGE),
    'loss': ('BCE', REVENGE),
    'sampler': ('repeated augmentation', REVENGE),
}
_SWIN_L = {
    'length': ('30 epochs', SWIN_A2),
    'lr': ('paper: 1e-5; release: BASE_LR 2e-5 x batch / 512 (4e-5 at '
           '1024); config follows the paper (the 87.3 Gong et al. compare '
           'with)', SWIN_YAML),
    'schedule': ('paper: constant; release: cosine to MIN_LR 2e-7 x batch '
                 '/ 512 (4e-7 at 1024); config follows the paper',
                 SWIN_YAML),
    'warm-up': ('paper: none stated; release: 5 epochs from WARMUP_LR 2e-8 '
                'x batch / 512; config follows the paper', SWIN_YAML),
    'weight decay': ('1e-8', SWIN_A2),
}
_SEG_ADE = {
    'image size': ('512x512', MMSEG_SWIN),
    'length': ('160000 iterations', MMSEG_SWIN),
    'batch (per GPU x GPUs)': ('2 x 8 = 16', MMSEG_SWIN),
    'warm-up': ('1500 iterations from 1e-6 x lr', MMSEG_SWIN),
    'schedule': ('poly, power 1, to 0', MMSEG_SWIN),
}

PUBLISHED = {
    'configs/pretrain/deit_s24.py': dict(_DEIT_1K, **{
        'drop path': ('0.1 (DeiT-S)', DEIT)}),
    'configs/pretrain/deit_b24.py': dict(_DEIT_1K),
    'configs/pretrain/deit_s24_diverse.py': dict(_DEIT_1K),
    'configs/pretrain/deit_b24_diverse.py': dict(_DEIT_1K),
    'configs/pretrain/deit_b24_diverse_released.py': dict(_GONG_RELEASED),
    'configs/pretrain/deit_b24_diverse_released_refine.py': dict(
        _GONG_RELEASED, **{
            'optimizer': ('AdamW; at the refine stage optimizer and '
                          'lr-scheduler state are not restored (both loads '
                          'commented out); config follows the release: '
                          'schedule recomputed (ContinueScheduleHook), '
                          'optimizer state dropped (FreshOptimizerHook)',
                          GONG_MAIN)}),
    'configs/pretrain/lvvit_s_token_labeling.py': dict(_TL),
    'configs/pretrain/lvvit_m_token_labeling.py': dict(_TL, **{
        'drop path': ('0.2', TL)}),
    'configs/pretrain/deit_s_token_labeling.py': {
        k: (v, TL_LVVIT_S) for k, (v, _) in _TL.items()},
    'configs/pretrain/deit_s24_diverse_token_labeling.py': {
        k: (v, TL_LVVIT_S) for k, (v, _) in _TL.items()},
    'configs/pretrain/deit3_s_in1k.py': dict(_DEIT3, **{
        'lr': ('4e-3 (unscaled)', REVENGE),
        'batch (per GPU x GPUs)': ('256 x 8 = 2048', REVENGE),
        'drop path': ('0.05', REVENGE)}),
    'configs/pretrain/deit3_b_in1k.py': dict(_DEIT3, **{
        'warm-up': ('5 epochs from 1e-6', REVENGE_WARMUP),
        'lr': ('3e-3 (unscaled)', REVENGE),
        'image size': ('192 (then 224 fine-tune)', REVENGE),
        'drop path': ('0.2', REVENGE)}),
    'configs/pretrain/deit3_b_in1k_192.py': dict(_DEIT3, **{
        'lr': ('3e-3 (unscaled)', REVENGE),
        'image size': ('192', REVENGE),
        'batch (per GPU x GPUs)': ('256 x 8 = 2048', REVENGE),
        'drop path': ('0.2', REVENGE)}),
    'configs/pretrain/deit3_l_in1k.py': dict(_DEIT3, **{
        'warm-up': ('5 epochs from 1e-6', REVENGE_WARMUP),
        'lr': ('3e-3 (unscaled)', REVENGE),
        'image size': ('192 (then 224 fine-tune)', REVENGE),
        'batch (per GPU x GPUs)': ('64 x 32 = 2048', REVENGE),
        'drop path': ('0.45', REVENGE)}),
    'configs/pretrain/deit3_b_in1k_ft224.py': {
        'length': ('20 epochs', REVENGE),
        'optimizer': ('AdamW', REVENGE),
        'lr': ('1e-5', REVENGE),
        'weight decay': ('0.1', REVENGE),
        'batch (per GPU x GPUs)': ('64 x 8 = 512', REVENGE),
        'drop path': ('0.2', REVENGE)},
    'configs/pretrain/deit3_b_in21k.py': {
        'length': ('240 epochs', REVENGE),
        'optimizer': ('LAMB (fusedlamb)', REVENGE),
        'lr': ('1e-3', REVENGE),
        'weight decay': ('0.02', REVENGE),
        'batch (per GPU x GPUs)': ('64 x 32 = 2048', REVENGE),
        'drop path': ('0.1', REVENGE),
        'augmentations': ('SRC, 3-Augment, CutMix only', REVENGE)},
    'configs/pretrain/deit3_b_in21k_ft_in1k.py': {
        'length': ('50 epochs', REVENGE),
        'lr': ('3e-4', REVENGE),
        'weight decay': ('0.02', REVENGE),
        'drop path': ('0.15', REVENGE)},
    'configs/pretrain/swin_l.py': dict(_SWIN_L, **{
        'image size': ('384', SWIN_A2)}),
    'configs/pretrain/swin_l_diverse.py': dict(_SWIN_L),
    'configs/seg/upernet_swin_l_ade20k.py': dict(_SEG_ADE, **{
        'drop path': ('0.3', GONG_SEG),
        'lr': ('6e-5', GONG_SEG),
        'weight decay': ('0.01', GONG_SEG),
        'augmentations': ('Resize (2048, 1024), ratio 0.5-2.0, crop 512, '
                          'flip, photometric', GONG_SEG)}),
    'configs/seg/upernet_swin_l_ade20k_stage2.py': {
        'length': ('resume to 200000 iterations', GONG_SEG),
        'drop path': ('0.5', GONG_SEG)},
    'configs/seg/upernet_swin_b_ade20k.py': dict(_SEG_ADE, **{
        'lr': ('6e-5', MMSEG_SWIN), 'weight decay': ('0.01', MMSEG_SWIN),
        'drop path': ('0.3', MMSEG_SWIN)}),
    'configs/seg/upernet_lvvit_s_ade20k.py': {
        'length': ('160000 iterations', TL_SEG),
        'lr': ('6e-5', TL_SEG),
        'weight decay': ('0.01', TL_SEG),
        'layer decay': ('-', TL_SEG),
        'drop path': ('0.1', TL_SEG),
        'test': ('slide 512, stride 341', TL_SEG)},
    'configs/seg/upernet_swin_l_cityscapes.py': {
        'batch (per GPU x GPUs)': ('1 x 8 = 8', GONG_CITY),
        'image size': ('1025x1025', GONG_CITY),
        'drop path': ('0.5', GONG_CITY),
        'lr': ('6e-5', GONG_CITY),
        'length': ('80000 iterations', GONG_CITY),
        'test': ('whole image, resized to 2049x1025; config slides '
                 '512x1024 windows, mmseg\'s recipe (release not followed)',
                 GONG_CITY_TEST)},
    'configs/seg/upernet_deit_b24_cityscapes.py': {
        'batch (per GPU x GPUs)': ('2 x 4 = 8', MMSEG_CITY),
        'image size': ('512x1024', MMSEG_CITY),
        'length': ('80000 iterations', MMSEG_CITY)},
}
