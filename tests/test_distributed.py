"Many processes with torchrun (gloo, CPU): harvesting and parsing split the videos and add up to a single run; DDP training equals one process."
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from valor_nb.harvesting import OUTPUTS
from valor_nb.testing import make_clip

ENTRY = str(Path(__file__).with_name('torchrun_entry.py'))
pytestmark = pytest.mark.slow   # several processes, each building its models: a minute or two


def run(*args, procs:int=1):
    "The entry script alone, or under `torchrun --nproc_per_node procs`; its exit status and output."
    launcher = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(procs)] if procs > 1 else [sys.executable]
    res = subprocess.run([*launcher, ENTRY, *map(str, args)], capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': '1'})
    return res.returncode, res.stdout + res.stderr


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    d = tmp_path_factory.mktemp('videos')
    for name in ('aaaaaaaaaaa', 'bbbbbbbbbbb', 'ccccccccccc'): make_clip(d/f'{name}.mp4')
    make_clip(d/'ddddddddddd.mp4', seconds=4)                                  # too short to harvest: reported
    (d/'split.csv').write_text('filename\tevent_labels\naaaaaaaaaaa_0_10\tSpeech,Dog\nbbbbbbbbbbb_0_10\tCar\n'
                               'ccccccccccc_0_10\tCello\nddddddddddd_0_10\tDog\neeeeeeeeeee_0_10\tCat\n')
    return d


def test_harvest_under_torchrun_equals_one_process(videos, tmp_path):
    args = lambda out: ('harvest', videos, '--split-csv', videos/'split.csv', '--out', out, '--random-weights', '--clip-model',
                        'valor-tiny-clip', '--batch-size', '1', '--quiet')
    assert run(*args(tmp_path/'one'))[0] == 1                                   # two videos fail: exit status 1
    code, log = run(*args(tmp_path/'two'), procs=2)
    assert code != 0 and 'the whole job' in log, log[-2000:]                    # rank 0 merged after the barrier
    merged = json.loads((tmp_path/'two'/'harvest_summary.json').read_text())
    single = json.loads((tmp_path/'one'/'harvest_summary.json').read_text())
    assert (merged['shards'], merged['videos'], merged['harvested']) == (2, 5, 3) and merged['failed'].keys() == single['failed'].keys()
    for o in OUTPUTS:
        names = sorted(p.name for p in (tmp_path/'one'/o).iterdir())
        assert names == ['aaaaaaaaaaa.npy', 'bbbbbbbbbbb.npy', 'ccccccccccc.npy']
        assert sorted(p.name for p in (tmp_path/'two'/o).iterdir()) == names
        for f in names:
            x, y = np.load(tmp_path/'one'/o/f), np.load(tmp_path/'two'/o/f)
            assert np.array_equal(x, y) if o.startswith('labels') else np.allclose(x, y, rtol=1e-4, atol=1e-5), (o, f)


def test_parse_under_torchrun_equals_one_process(videos, tmp_path):
    args = lambda out: ('parse', *(videos/f'{n}.mp4' for n in ('aaaaaaaaaaa', 'bbbbbbbbbbb', 'ddddddddddd')), '--out', out,
                        '--random-weights', '--clip-model', 'valor-tiny-clip-768', '--quiet')
    assert run(*args(tmp_path/'one'))[0] == 0
    code, log = run(*args(tmp_path/'two'), procs=2)
    assert code == 0, log[-3000:]
    merged = json.loads((tmp_path/'two'/'parse_summary.json').read_text())
    assert merged['shards'] == 2 and merged['videos'] == 3 and len(merged['parsed']) == 3
    for n in ('aaaaaaaaaaa', 'bbbbbbbbbbb', 'ddddddddddd'):
        one, two = (json.loads((tmp_path/d/f'{n}.json').read_text()) for d in ('one', 'two'))
        assert one['events'] == two['events']
        for m in ('audio', 'visual'): assert (tmp_path/'one'/f'{n}_{m}.csv').read_text() == (tmp_path/'two'/f'{n}_{m}.csv').read_text()


def test_ddp_training_equals_one_process(tmp_path):
    "Same global batch (21, unequal slices of 11 and 10), same seed: every epoch's losses and validation scores agree."
    assert run('fit', tmp_path/'one.json')[0] == 0
    code, log = run('fit', tmp_path/'two.json', procs=2)
    assert code == 0, log[-3000:]
    one, two = (json.loads((tmp_path/f).read_text()) for f in ('one.json', 'two.json'))
    assert len(one) == len(two) == 3
    for a, b in zip(one, two):
        assert a['loss'] == pytest.approx(b['loss'], rel=1e-5)
        assert a['parts'] == pytest.approx(b['parts'], rel=1e-5)
        assert a['val'] == pytest.approx(b['val'], abs=1e-6)
