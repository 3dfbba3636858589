"Trainer and CLI: end to end on an LLP folder written to disk, determinism, resume safety, KD and label checks."
import json
from dataclasses import replace

import pytest
import torch

from valor_nb.data import random_split, write_llp
from valor_nb.han import build_han
from valor_nb.losses import LOSS_PRESETS, LossConfig
from valor_nb.testing import reference_forward
from valor_nb.train import RECIPES, main, split_targets, train_model

TINY = dict(hidden=32, ff=64, heads=2)


@pytest.fixture(scope='module')
def splits():
    return {'train': random_split(64, seed=1), 'val': random_split(24, seed=2), 'test': random_split(24, seed=3)}


def quick(epochs=2, **kw): return replace(RECIPES['valor'].shortened(epochs), batch_size=16, **kw)


def test_cli_trains_and_evaluates_an_llp_folder(tmp_path, splits, capsys):
    llp = write_llp(tmp_path/'llp', splits)
    feats = ['vggish=vggish', 'res152=res152', 'r2plus1d_18=r2plus1d_18']
    main([str(llp), '--features', *feats, '--labels', 'a=labels_a', 'v=labels_v', '--epochs', '2', '--batch-size', '32',
          '--out', str(tmp_path/'run'), '--quiet'])
    printed = capsys.readouterr().out
    assert 'best epoch' in printed and 'test' in printed and 'seg_type' in printed
    scores = json.loads((tmp_path/'run'/'scores.json').read_text())
    assert scores['best_epoch'] in (1, 2) and set(scores['test']) >= {'seg_a', 'evt_event'}
    assert scores['config']['recipe']['epochs'] == 2 and len(scores['history']) == 2
    assert sorted(p.name for p in (tmp_path/'run').iterdir()) == ['best.pt', 'last.pt', 'scores.json']


def test_cli_names_missing_features(tmp_path, splits, cli):
    llp = write_llp(tmp_path/'llp', splits)
    assert cli(main, llp, '--features', 'vggish=vggish') == (2, "valor_train: preset valor needs --features for ['res152', 'r2plus1d_18']\n")
    assert cli(main, llp, '--features', 'vggish') == (2, "valor_train: --features must be KEY=FOLDER, got 'vggish'\n")
    code, err = cli(main, tmp_path/'nowhere', '--features', 'vggish=v', 'res152=r', 'r2plus1d_18=d', '--out', tmp_path/'run')
    assert code == 1 and err.startswith('valor_train: ') and 'nowhere/AVVP_train.csv: file not found' in err and err.count('\n') == 1


def test_same_seed_same_numbers(splits):
    runs = [train_model('valor', splits['train'], splits['val'], splits['test'], 'valor', quick(), han_overrides=TINY, quiet=True)
            for _ in range(2)]
    assert runs[0].test == runs[1].test and runs[0].history[-1]['loss'] == runs[1].history[-1]['loss']
    other = train_model('valor', splits['train'], splits['val'], splits['test'], 'valor', quick(seed=5), han_overrides=TINY, quiet=True)
    assert other.history[-1]['loss'] != runs[0].history[-1]['loss']


def test_resume_refuses_another_configuration(tmp_path, splits):
    kw = dict(han_overrides=TINY, quiet=True, out_dir=tmp_path)
    train_model('valor', splits['train'], splits['val'], None, 'valor', quick(1), **kw)
    with pytest.raises(ValueError, match=r"last.pt: written for another configuration \(model, loss, recipe\): loss.audio: 'dense' \(checkpoint\) vs 'guided' \(this run\)"):
        train_model('valor', splits['train'], splits['val'], None, 'base', quick(2), resume=True, **kw)


@pytest.mark.parametrize('preset', ['han', 'valor+', 'valor++'])
@pytest.mark.parametrize('loss', ['base', 'kd', 'valor'])
def test_every_preset_and_loss_trains(preset, loss):
    kinds = build_han(preset).input_kinds
    tr, va = random_split(48, kinds, seed=1), random_split(16, kinds, seed=2)
    r = train_model(preset, tr, va, None, loss, replace(RECIPES[preset].shortened(1), batch_size=32),
                    han_overrides=dict(hidden=32, ff=64, heads=2, layers=2 if preset != 'han' else 1), quiet=True)
    assert r.best_epoch == 1 and torch.isfinite(torch.tensor(r.history[0]['loss']))


def test_targets_name_what_is_missing(splits):
    s = replace(splits['train'], labels={}, teachers={})
    with pytest.raises(ValueError, match=r"needs labels for both modalities, got \[\]"): split_targets(s, LOSS_PRESETS['valor'])
    with pytest.raises(ValueError, match=r"needs teachers for both modalities"): split_targets(s, LossConfig('kd', None))
    assert split_targets(s, LOSS_PRESETS['base']).labels_a is None


@pytest.mark.parametrize('preset', ['valor', 'valor++'])
def test_trainer_shortcut_equals_straightforward_forward(preset):
    "Averaging inputs once per split (the trainer's shortcut) gives the outputs and gradients of projecting every frame."
    torch.manual_seed(0)
    m = build_han(preset).eval()
    split = random_split(8, m.input_kinds, seed=4)
    x = tuple(split.features[k] for k in m.input_kinds)
    def grads(out):
        m.zero_grad(); out.video_prob.sum().backward()
        return [p.grad.clone() for p in m.parameters() if p.grad is not None]   # the unused final norms get none
    ref, fast = reference_forward(m, *x), m.forward_segments(*m.segment_inputs(*x))
    assert torch.allclose(ref.frame_logits, fast.frame_logits, atol=1e-4)
    g_ref, g_fast = grads(ref), grads(fast)
    assert len(g_ref) == len(g_fast) > 0
    assert all(torch.allclose(a, b, atol=1e-4, rtol=1e-3) for a, b in zip(g_ref, g_fast))


def test_cli_needs_a_folder_or_synthetic(tmp_path, cli):
    assert cli(main, '--out', tmp_path) == (2, 'valor_train: give LLP_DIR, or --synthetic for the built-in synthetic LLP\n')
    assert cli(main, tmp_path, '--synthetic', '--out', tmp_path)[0] == 2


@pytest.mark.slow
def test_cli_trains_on_the_synthetic_llp_without_any_data(tmp_path, capsys):
    main(['--synthetic', '--out', str(tmp_path/'run'), '--epochs', '1', '--quiet'])
    assert 'on the synthetic LLP' in capsys.readouterr().out
    scores = json.loads((tmp_path/'run'/'scores.json').read_text())
    assert scores['best_epoch'] == 1 and set(scores['test']) >= {'seg_type'}
