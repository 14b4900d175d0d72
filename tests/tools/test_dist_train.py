"""Two-process training with torchrun on CPU (gloo), through dist_train.sh."""
import os
import os.path as osp
import subprocess
import sys

from tool_runner import CLS_CONFIG, ROOT, data_options, free_port


def test_two_process_cpu_training_writes_one_checkpoint(digits_root,
                                                        tmp_path):
    work_dir = str(tmp_path / 'dist')
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               OMP_NUM_THREADS='1')
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', CLS_CONFIG, '2', '--work-dir',
         work_dir, '--no-validate', '--cfg-options', 'train_cfg.max_epochs=2',
         'train_dataloader.batch_size=16', 'train_dataloader.num_workers=0',
         *data_options(digits_root, 'imagenet', train_size=64)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'Distributed launcher: pytorch' in log
    assert 'Distributed training: True' in log
    # 64 images / (2 processes x 16) = 2 iterations per epoch
    assert 'Epoch(train) [2][2/2]' in log
    checkpoints = [f for f in os.listdir(work_dir) if f.endswith('.pth')]
    assert checkpoints == ['epoch_2.pth']
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        assert f.read().strip().endswith('epoch_2.pth')
