"AVE: the reader on the real annotations (VALOR_AVE_DIR), both split formats, clear errors, features by video id."
import os
from pathlib import Path

import numpy as np
import pytest

from valor_nb.ave import load_ave, read_ave_records, synth_ave
from valor_nb.data import save_npy


@pytest.fixture(scope='module')
def ave_dir():
    d = os.environ.get('VALOR_AVE_DIR')
    if not d or not (Path(d)/'Annotations.txt').is_file(): pytest.skip('VALOR_AVE_DIR is not set: no real AVE annotations to test against')
    return Path(d)


def test_real_ave_splits(ave_dir):
    splits = {s: load_ave(ave_dir, s) for s in ('train', 'val', 'test')}
    assert {s: len(x) for s, x in splits.items()} == {'train': 3339, 'val': 402, 'test': 402}
    tr = splits['train']
    assert len(tr.classes) == 28 and tr.classes[0] == 'Church bell' and (tr.event >= 0).mean() > 0.99
    full = (tr.labels < 28).sum(1)
    assert 0.6 < (full == 10).mean() < 0.75          # shared/README: 66.4% of events last the whole clip


def test_records_form_equals_order_form(ave_dir, tmp_path):
    records = (ave_dir/'Annotations.txt').read_text().splitlines()
    (tmp_path/'Annotations.txt').write_text('\n'.join(records) + '\n')
    order = [int(i) for i in (ave_dir/'test_order.txt').read_text().split()]
    (tmp_path/'testSet.txt').write_text('\n'.join(records[i] for i in order) + '\n')
    a, b = load_ave(ave_dir, 'test'), load_ave(tmp_path, 'test')
    assert a.names == b.names and (a.labels == b.labels).all()


def test_bad_records_and_features(tmp_path):
    (tmp_path/'Annotations.txt').write_text('Dog&aaaaaaaaaaa&good&2&12\n')
    with pytest.raises(ValueError, match='line 1, video aaaaaaaaaaa: segment 2..12 outside 0..10'): read_ave_records(tmp_path/'Annotations.txt')
    (tmp_path/'Annotations.txt').write_text('Dog&aaaaaaaaaaa&good&2&5\nCat&bbbbbbbbbbb&good&0&10\n')
    (tmp_path/'train_order.txt').write_text('1\n0\n')
    save_npy(tmp_path/'r21d'/'bbbbbbbbbbb.npy', np.ones((10, 512), np.float32))
    with pytest.raises(FileNotFoundError, match='1 of 2 r2plus1d_18 feature files missing; first: aaaaaaaaaaa.npy'):
        load_ave(tmp_path, 'train', {'r2plus1d_18': 'r21d'})
    save_npy(tmp_path/'r21d'/'aaaaaaaaaaa.npy', np.zeros((10, 512), np.float32))
    s = load_ave(tmp_path, 'train', {'r2plus1d_18': 'r21d'})
    assert s.names == ['bbbbbbbbbbb', 'aaaaaaaaaaa'] and s.labels[1].tolist() == [2, 2, 0, 0, 0, 2, 2, 2, 2, 2]
    assert s.features['r2plus1d_18'][0].sum() == 5120 and s.event.tolist() == [1, 0]


def test_synthetic_ave_is_deterministic():
    a, b = synth_ave(20, seed=3), synth_ave(20, seed=3)
    assert (a.labels == b.labels).all() and all((a.features[k] == b.features[k]).all() for k in a.features)
