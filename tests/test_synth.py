"The synthetic LLP: determinism, the official layout on disk, its statistics against the real annotations."
from dataclasses import replace

import numpy as np
import pytest
import torch

from valor_nb.data import load_split, write_llp
from valor_nb.synth import MODALITY_MIX, SynthConfig, synth_llp
from valor_nb.train import RECIPES, train_model

SMALL = SynthConfig(n_train=40, n_val=16, n_test=24, kinds=('vggish', 'res152', 'r2plus1d_18', 'clip', 'clap'))


def test_deterministic_and_seed_dependent():
    a, b, c = synth_llp(SMALL), synth_llp(SMALL), synth_llp(replace(SMALL, seed=1))
    for s in ('train', 'val', 'test'):
        assert (a[s].weak == b[s].weak).all() and (a[s].gt_v == b[s].gt_v).all()
        assert all(torch.equal(a[s].features[k], b[s].features[k]) for k in SMALL.kinds)
        assert torch.equal(a[s].teachers['a'], b[s].teachers['a'])
    assert not (a['train'].weak == c['train'].weak).all()


def test_written_in_the_official_layout_and_read_back(tmp_path):
    syn = synth_llp(SMALL)
    write_llp(tmp_path, syn)
    assert (tmp_path/'AVVP_eval_audio_original2020.csv').read_text().startswith('filename\tonset\toffset\tevent_labels\nsynva')
    back = load_split(tmp_path, 'test', features={k: k for k in SMALL.kinds}, labels={'a': 'labels_a', 'v': 'labels_v'})
    t = syn['test']
    assert back.names == t.names and (back.weak == t.weak).all() and (back.gt_a == t.gt_a).all() and (back.gt_v == t.gt_v).all()
    assert all(torch.equal(back.features[k], t.features[k]) for k in SMALL.kinds)
    assert torch.equal(back.labels['v'], t.labels['v'])
    train = load_split(tmp_path, 'train', features={k: k for k in ('vggish', 'res152', 'r2plus1d_18')}, labels={'a': 'labels_a', 'v': 'labels_v'})
    assert train.gt_a is None and len(train) == 40


@pytest.mark.slow
def test_a_model_learns_from_it():
    "Not noise: a HAN trained briefly on it scores far above the same HAN untrained."
    syn = synth_llp(SynthConfig(n_train=600, n_val=150, n_test=10))
    recipe = replace(RECIPES['valor'].shortened(8), lr_max=1e-3, lr_min=1e-5, batch_size=32)
    r = train_model('valor', syn['train'], syn['val'], None, 'valor', recipe, han_overrides=dict(hidden=128, ff=256), quiet=True)
    empty = train_model('valor', syn['train'], syn['val'], None, 'valor', replace(recipe, lr_max=0.0, lr_min=0.0),
                        han_overrides=dict(hidden=128, ff=256), quiet=True)
    assert r.val['seg_type'] > 35 and r.val['seg_type'] > empty.val['seg_type'] + 20, (r.val['seg_type'], empty.val['seg_type'])


def test_modality_mix_is_the_real_one(llp_dir):
    "The per-class modality mix embedded in the generator, recomputed from the real val + test annotations."
    sp = [load_split(llp_dir, s) for s in ('val', 'test')]
    ga, gv = (np.concatenate([getattr(s, k) for s in sp]).any(1) for k in ('gt_a', 'gt_v'))
    w = np.concatenate([s.weak for s in sp]).astype(bool)
    n = w.sum(0)
    mix = np.stack([(ga & ~gv & w).sum(0), (gv & ~ga & w).sum(0), (ga & gv & w).sum(0), (~ga & ~gv & w).sum(0)], 1) / n[:, None]
    assert np.abs(mix - np.array(MODALITY_MIX)).max() < 0.0006
