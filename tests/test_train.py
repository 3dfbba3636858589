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
    assert 'best epoch' in printed and 'test' in printed and 'Type@AV' in printed
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


def test_cli_keeps_the_epoch_its_rule_picks(tmp_path, splits, cli):
    "`--select last` keeps the last epoch and records the rule; resuming under another rule is refused in one line."
    llp = write_llp(tmp_path/'llp', splits)
    args = [llp, '--features', 'vggish=vggish', 'res152=res152', 'r2plus1d_18=r2plus1d_18', '--labels', 'a=labels_a', 'v=labels_v',
            '--epochs', '3', '--batch-size', '32', '--out', tmp_path/'run', '--quiet']
    assert cli(main, *args, '--select', 'last')[0] == 0
    scores = json.loads((tmp_path/'run'/'scores.json').read_text())
    assert (scores['best_epoch'], scores['config']['select'], scores['val']) == (3, 'last', scores['history'][-1]['val'])
    code, err = cli(main, *args, '--resume')
    assert code == 1 and "select: 'last' (checkpoint)" in err and err.count('\n') == 1


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
    assert torch.allclose(ref.segment_logits, fast.segment_logits, atol=1e-4)
    g_ref, g_fast = grads(ref), grads(fast)
    assert len(g_ref) == len(g_fast) > 0
    assert all(torch.allclose(a, b, atol=1e-4, rtol=1e-3) for a, b in zip(g_ref, g_fast))


def test_cli_needs_a_folder_or_synthetic(tmp_path, cli):
    assert cli(main, '--out', tmp_path) == (2, 'valor_train: give LLP_DIR, or --synthetic for the built-in synthetic LLP\n')
    assert cli(main, tmp_path, '--synthetic', '--out', tmp_path)[0] == 2


def test_cli_refuses_what_would_do_nothing(tmp_path, cli):
    "Arguments --synthetic would ignore, an unknown or absent device, and --resume with --overwrite: one line, status 2."
    code, err = cli(main, '--synthetic', '--features', 'x=foo', '--labels', 'a=l', '--out', tmp_path/'run')
    assert (code, err) == (2, 'valor_train: --synthetic makes its own features, labels and ground truth; --features, --labels '
                              'would be ignored: drop them, or give LLP_DIR instead\n')
    assert cli(main, '--synthetic', '--device', 'gpu', '--out', tmp_path/'run') == (
        2, "valor_train: --device gpu: not a device; use auto, cpu, cuda or cuda:N (this machine: cpu)\n")
    if not torch.cuda.is_available():
        code, err = cli(main, '--synthetic', '--device', 'cuda', '--out', tmp_path/'run')
        assert code == 2 and err.startswith('valor_train: --device cuda: no CUDA GPU is visible here') and err.count('\n') == 1
    assert cli(main, '--synthetic', '--resume', '--overwrite', '--out', tmp_path/'run')[0] == 2
    assert not (tmp_path/'run').exists()                               # refused before anything was made


def test_cli_never_trains_over_another_run(tmp_path, splits, cli):
    "A finished or interrupted run in --out is refused unless --resume or --overwrite; --resume without one says so."
    llp = write_llp(tmp_path/'llp', splits)
    args = [llp, '--features', 'vggish=vggish', 'res152=res152', 'r2plus1d_18=r2plus1d_18', '--loss', 'base', '--epochs', '1',
            '--out', tmp_path/'run']
    assert cli(main, *args, '--quiet')[0] == 0
    before = (tmp_path/'run'/'last.pt').read_bytes()
    code, err = cli(main, *args)
    assert (code, err) == (1, f"valor_train: {tmp_path/'run'} holds a run (last.pt: 1 of 1 epochs done); continue it with --resume, "
                              "or start over with --overwrite (deletes its last.pt, best.pt, scores.json)\n")
    assert (tmp_path/'run'/'last.pt').read_bytes() == before          # nothing lost
    code, err = cli(main, *args, '--overwrite')
    assert code == 0 and 'the previous run\'s last.pt, best.pt, scores.json deleted (overwrite)' in err
    code, err = cli(main, *args[:-1], tmp_path/'fresh', '--resume')
    assert code == 0 and f"{tmp_path/'fresh'/'last.pt'} not found: nothing to resume, starting a fresh run" in err


def test_ctrl_c_names_the_command_that_continues(tmp_path, cli, monkeypatch):
    import valor_nb.train as vt
    def interrupted(*a, **k): raise KeyboardInterrupt
    monkeypatch.setattr(vt, 'train_model', interrupted)
    code, err = cli(main, '--synthetic', '--epochs', '2', '--out', tmp_path/'my run', '--quiet')
    assert (code, err) == (130, "valor_train: interrupted; finished outputs are complete on disk; to go on, run: "
                                f"valor_train --synthetic --epochs 2 --out '{tmp_path/'my run'}' --quiet --resume\n")


@pytest.mark.slow
def test_cli_trains_on_the_synthetic_llp_without_any_data(tmp_path, capsys):
    "The synthetic demo: its own recipe, a plan with an estimate, one line per epoch, outputs that say what they are."
    main(['--synthetic', '--out', str(tmp_path/'run'), '--epochs', '2'])
    out, err = capsys.readouterr()
    assert 'on the synthetic LLP' in out
    plan, estimate, *epochs = [l for l in err.splitlines() if not l.startswith('epoch ') or '/2:' in l]
    assert plan.startswith('valor_train: valor with loss valor on the synthetic LLP (synthetic data, not LLP), 1,000 / 300 / 600 videos; '
                           'the synthetic recipe (2 epochs, batch 64, lr 0.001 to 1e-05); keeping the best Seg. Type@AV; device cpu')
    assert estimate.startswith('about ') and 'per epoch: 2 epochs in about' in estimate
    assert [l.split(':')[0] for l in epochs] == ['epoch 1/2', 'epoch 2/2'] and 'left' in epochs[0]
    scores = json.loads((tmp_path/'run'/'scores.json').read_text())
    assert scores['best_epoch'] in (1, 2) and set(scores['test']) >= {'seg_type'}
    info = {'preset': 'valor', 'loss': 'valor', 'synthetic': True}
    assert info.items() <= scores['info'].items() and scores['info']['valor_nb'] and 'synthetic recipe' in scores['info']['recipe']
    best = torch.load(tmp_path/'run'/'best.pt', weights_only=True)
    assert best['info'] == scores['info'] and best['config']['han']['hidden'] == 512 and set(best) == {'model', 'config', 'info'}


def test_cli_method_and_preset_exclude_each_other(tmp_path, cli):
    assert cli(main, '--synthetic', '--method', 'jomold', '--preset', 'valor', '--out', tmp_path) == (
        2, 'valor_train: --method jomold sets the model and the loss: drop --preset\n')
    code, err = cli(main, '--synthetic', '--method', 'nope', '--out', tmp_path)
    assert code == 2 and "invalid choice: 'nope'" in err and 'jomold' in err


@pytest.mark.slow
def test_cli_trains_a_method_with_stages(tmp_path, capsys):
    "`--method ma`: its stages from one command, the first stage's checkpoints in a folder of --out, the run's record names the method."
    main(['--synthetic', '--method', 'ma', '--out', str(tmp_path/'run'), '--epochs', '1', '--quiet'])
    assert 'method ma on the synthetic LLP' in capsys.readouterr().out
    scores = json.loads((tmp_path/'run'/'scores.json').read_text())
    assert (scores['info']['method'], scores['info']['preset'], scores['config']['recipe']['optimizer']) == ('ma', 'han', 'adam')
    assert (tmp_path/'run'/'base'/'best.pt').is_file() and (tmp_path/'run'/'best.pt').is_file()
