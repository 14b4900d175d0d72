"""Two-process training with torchrun on CPU (gloo), through dist_train.sh."""
import glob
import os
import os.path as osp

from tool_runner import CLS_CONFIG, data_options, dist_train


def test_two_process_cpu_training_writes_one_checkpoint(digits_root,
                                                        tmp_path):
    work_dir = str(tmp_path / 'dist')
    rc, log = dist_train(
        CLS_CONFIG, '--work-dir', work_dir, '--no-validate', '--cfg-options',
        'train_cfg.max_epochs=2', 'train_dataloader.batch_size=16',
        'train_dataloader.num_workers=0',
        *data_options(digits_root, 'imagenet', train_size=64))
    assert rc == 0, log[-4000:]
    # the environment listing goes to mmengine's log file, not the console
    (run_log, ) = glob.glob(osp.join(work_dir, '*', '*.log'))
    with open(run_log) as f:
        listing = f.read()
    assert 'Distributed launcher: pytorch' in listing
    assert 'Distributed training: True' in listing
    assert 'Distributed launcher' not in log
    # 64 images / (2 processes x 16) = 2 iterations per epoch
    assert 'Epoch(train) [2][2/2]' in log
    checkpoints = [f for f in os.listdir(work_dir) if f.endswith('.pth')]
    assert checkpoints == ['epoch_2.pth']
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_2.pth')
