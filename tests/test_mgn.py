"MGN: parity with the official MGN_Net on the first synthetic batch (tests/reference/mgn_first_batch.json), its checkpoint loader, its training entry."
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from valor_nb.data import random_split
from valor_nb.losses import LossConfig, Targets, avvp_loss, bce
from valor_nb.mgn import (MGN, MGNConfig, class_token_loss, from_official_mgn_name, load_mgn_checkpoint, mgn_noise,
                          to_official_mgn_state_dict)
from valor_nb.mgn_train import MGN_RECIPE, train_mgn
from valor_nb.synth import SynthConfig, synth_llp

REF = json.loads((Path(__file__).parent/'reference'/'mgn_first_batch.json').read_text())
TINY = dict(hidden=32, ff=64, heads=2, token_ff=16)


def reference_model() -> MGN:
    "Our MGN with the reference's weights: built from its seed, every parameter moved by seeded noise (as make_reference.py)."
    torch.manual_seed(REF['weights_seed'])
    m = MGN(MGNConfig(**REF['config']))
    g = torch.Generator().manual_seed(REF['weights_seed'])
    with torch.no_grad():
        for _, p in sorted(m.named_parameters()): p.add_(torch.randn(p.shape, generator=g) * REF['perturbation'])
    return m


@pytest.fixture(scope='module')
def first_batch():
    s = synth_llp(SynthConfig(**REF['synth']))['train']
    return [s.features[k][:REF['B']].float() for k in ('vggish', 'res152', 'r2plus1d_18')], torch.as_tensor(s.weak[:REF['B']]).float()


def ours(first_batch, mode:str, loss=lambda out, y: avvp_loss(out, Targets(y), LossConfig('guided', 'guided'))[1]) -> dict:
    "Our outputs (video 0), loss terms and gradients (official names) on the reference batch, in `mode`."
    x, y = first_batch
    m = reference_model().train(mode == 'train')
    torch.manual_seed(REF['noise_seed'])
    out = m(*x)
    parts = {**loss(out, y), **class_token_loss(m)}
    sum(parts.values()).backward()
    params = dict(m.named_parameters())
    grads = {k: params[from_official_mgn_name(k)].grad for k in REF[mode]['grads']}
    return {'loss': {k: v.item() for k, v in parts.items()}, 'grads': {k: [g.norm().item(), g.sum().item()] for k, g in grads.items()},
            'video0': {'video_prob': out.video_prob[0], 'a_prob': out.a_prob[0], 'v_prob': out.v_prob[0],
                       'segment_prob': out.segment_prob[0], 'segment_logits': out.segment_logits[0]}}


def mismatches(o:dict, mode:str, rtol:float=1e-5) -> list:
    "Where ours differs from the official figures beyond float rounding."
    r, bad = REF[mode], []
    for k, v in r['video0'].items():
        ref = torch.tensor(v, dtype=torch.float64)
        d = (o['video0'][k].detach().double() - ref).abs().max() / ref.abs().max()
        if d > rtol: bad.append(f"output {k}: {d:.1e}")
    if set(o['loss']) != set(r['loss']): bad.append(f"loss terms {sorted(o['loss'])} vs {sorted(r['loss'])}")
    bad += [f"loss {k}: {o['loss'][k]} vs {v}" for k, v in r['loss'].items() if abs(o['loss'].get(k, 0) - v) > rtol * abs(v)]
    top = max(n for n, _ in r['grads'].values())
    for k, (norm, total) in r['grads'].items():     # zero-in-exact-arithmetic gradients: compared with the largest norm
        n, t = o['grads'][k]
        if abs(n - norm) > rtol * norm + 1e-6 * top or abs(t - total) > rtol * norm + 1e-6 * top:
            bad.append(f"gradient of {k}: norm {n} vs {norm}, sum {t} vs {total}")
    return bad


def test_the_reference_is_what_it_says():
    assert REF['B'] == 16 and REF['config'] == {**MGNConfig().__dict__} and len(REF['eval']['grads']) == len(list(MGN().parameters()))
    assert set(REF['eval']['loss']) == {'video', 'a', 'v', 'cls_a', 'cls_v'}
    for mode, diffs in REF['official_init_check'].items():     # the official initialisation, loaded by load_mgn_checkpoint
        assert max(diffs.values()) < 1e-5, (mode, diffs)
    assert len(REF['hard_options_check']) == 6 and max(REF['hard_options_check'].values()) < 1e-5   # 'hard' assignments too


@pytest.mark.parametrize('mode', ['eval', 'train'])
def test_outputs_losses_and_gradients_equal_the_official(first_batch, mode):
    "Train mode includes the official noise (stochastic depth, Gumbel) drawn from the same seed."
    assert mismatches(ours(first_batch, mode), mode) == []


def test_a_wrong_visual_smoothing_is_seen(first_batch):
    unsmoothed = lambda out, y: {'video': bce(out.video_prob, y), 'a': bce(out.a_prob, y), 'v': bce(out.v_prob, y)}
    bad = mismatches(ours(first_batch, 'eval', unsmoothed), 'eval')
    assert any(b.startswith('loss v') for b in bad) and any('gradient of fc_prob_v' in b for b in bad)


def test_noise_drawn_another_way_is_seen(first_batch):
    "Stochastic depth drawn with bernoulli_ (as later timm versions do) instead of one torch.rand per video: training differs."
    other = lambda shape, p, like: torch.empty(shape).bernoulli_(1 - p) / (1 - p)
    with mgn_noise(drop_path=other): bad = mismatches(ours(first_batch, 'train'), 'train')
    assert any(b.startswith('output video_prob') for b in bad) and any(b.startswith('loss video') for b in bad)


def test_injected_noise_reproduces_the_default_draws(first_batch):
    x, _ = first_batch
    m = reference_model().train()
    torch.manual_seed(3); default = m(*x).video_prob
    drawn = []
    record = lambda shape, p, like: drawn.append(((1 - p) + torch.rand(shape)).floor() / (1 - p)) or drawn[-1]
    torch.manual_seed(3)
    with mgn_noise(drop_path=record, gumbel=lambda shape, like: torch.distributions.Gumbel(0., 1.).sample(shape)):
        again = m(*x).video_prob
    assert torch.equal(default, again) and len(drawn) == 2 * (3 + 3 + 6)


def test_checkpoint_round_trip_and_errors(tmp_path):
    torch.manual_seed(0)
    m = MGN(MGNConfig(**TINY)).eval()
    official = to_official_mgn_state_dict(m)
    assert len(official) == len(m.state_dict()) and 'audio_cug.han_encoder.assign.q_proj.weight' in official
    torch.save({f'module.{k}': v for k, v in official.items()}, tmp_path/'MGN_Net.pt')       # as DataParallel saves it
    back = load_mgn_checkpoint(tmp_path/'MGN_Net.pt', MGNConfig(**TINY)).eval()
    x = (torch.randn(2, 10, 128), torch.randn(2, 80, 2048), torch.randn(2, 10, 512))
    with torch.no_grad(): assert torch.equal(back(*x).segment_prob, m(*x).segment_prob)
    with pytest.raises(ValueError, match=r"shape mismatches \['audio_cug.*shapes are set by hidden"):
        load_mgn_checkpoint(official)
    with pytest.raises(ValueError, match=r"no counterpart \['fc_gate.weight'\]"):
        load_mgn_checkpoint({**official, 'fc_gate.weight': torch.zeros(1)}, MGNConfig(**TINY))
    with pytest.raises(ValueError, match=r"lacks \(ours\) \['av_grouping.blocks.5."):
        load_mgn_checkpoint({k: v for k, v in official.items() if not k.startswith('av_mcg.blocks.5.')}, MGNConfig(**TINY))
    (tmp_path/'empty.pt').write_bytes(b'')
    with pytest.raises(ValueError, match='empty file'): load_mgn_checkpoint(tmp_path/'empty.pt')


def test_recipe_is_the_official_one():
    r = MGN_RECIPE
    assert (r.optimizer, r.lr_max, r.schedule, r.step, r.gamma, r.batch_size, r.epochs, r.weight_decay, r.grad_norm, r.seed) == \
           ('adam', 3e-4, 'step', 10, 0.1, 16, 40, 0.0, None, 1)
    assert r.betas == (0.9, 0.999)


def test_train_mgn_trains_with_the_class_token_terms_and_is_seeded():
    train, val = random_split(32, seed=1), random_split(16, seed=2)
    recipe = replace(MGN_RECIPE, epochs=1)
    small = {**TINY, 'depth_audio': 1, 'depth_visual': 1, 'depth_av': 1, 'layers': 3}     # `layers` (HAN's) is left out
    a = train_mgn(train, val, None, recipe, han_overrides=small, quiet=True)
    b = train_mgn(train, val, None, recipe, han_overrides=small, quiet=True)
    assert set(a.history[0]['parts']) == {'video', 'a', 'v', 'cls_a', 'cls_v'} and a.model.cfg.hidden == 32
    timeless = lambda h: [{k: v for k, v in row.items() if k != 'seconds'} for row in h]
    assert timeless(a.history) == timeless(b.history)
