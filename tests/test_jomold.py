"""JoMoLD against figures of the official code (MCG-NJU/JoMoLD, run by a script outside the repository on our seeded
weights and the first batch of the synthetic LLP): loss terms, gradients, dropped labels and noise ratios, and three
epochs of training in a fixed order; and wrong variants that the same comparison must catch."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from valor_nb.jomold import (ContrastiveHook, LabelDenoisingHook, drop_noisy_labels, figure_differences, modality_probs,
                             noise_ratios, ranking_losses, step_figures)
from valor_nb.jomold_han import JoMoLDConfig, JoMoLDHAN, jomold_name
from valor_nb.losses import LOSS_PRESETS, Targets, bce, smooth
from valor_nb.train import train_step
from valor_nb.synth import SynthConfig, synth_llp

REF = json.loads((Path(__file__).parent/'reference'/'jomold_first_batch.json').read_text())
TERMS, GRAD_NORM, GRAD_SUM, ZERO_GRAD = 1e-6, 1e-5, 1e-5, 1e-7   # relative; sums relative to the norm; absolute


@pytest.fixture(scope='module')
def train():
    torch.set_num_threads(1)
    return synth_llp(SynthConfig())['train']


def seeded(cross:bool) -> JoMoLDHAN:
    torch.manual_seed(REF['seed'])
    return JoMoLDHAN(JoMoLDConfig(dropout=0.0, cls_dropout=0.0, cross=cross))


def batch(train, model):
    B = REF['batch']
    return model.segment_inputs(*(train.features[k][:B] for k in model.input_kinds)), torch.as_tensor(train.weak[:B]).float()


def assert_close(d:dict):
    assert d['terms'] < TERMS and d['grad_norm'] < GRAD_NORM and d['grad_sum'] < GRAD_SUM and d['zero_grads'] < ZERO_GRAD, d


def pairs(mask): return sorted(mask.nonzero().tolist())


def test_noise_estimator_first_batch(train):
    m = seeded(False)
    assert_close(figure_differences(step_figures(m, *batch(train, m), (ContrastiveHook(1.0, 0.1),)), REF['estimator']))


@pytest.mark.parametrize('case', REF['denoise'], ids=lambda c: f"{c['ratio_file']}-e{c['epoch']}-b{c['batch']}")
def test_denoising_first_batch(train, case):
    m = seeded(True)
    deno = LabelDenoisingHook(case['ratio_a'], case['ratio_v'], case['iters_per_epoch'], case['warmup'])
    figs = step_figures(m, *batch(train, m), (deno, ContrastiveHook(1.0, 0.1)), case['epoch'], case['batch'])
    assert pairs(deno.drop_a) == sorted(case['drop_a']) and pairs(deno.drop_v) == sorted(case['drop_v'])
    assert_close(figure_differences(figs, case, {'a': 2.0}))


def test_noise_ratio_pass(train):
    probs = modality_probs(seeded(False), train)
    for r in REF['ratios']:
        ra, rv = noise_ratios(*probs, train.weak, r['a_thres'], r['v_thres'])
        np.testing.assert_array_equal(ra, np.array(r['audio'], dtype=float))
        np.testing.assert_array_equal(rv, np.array(r['visual'], dtype=float))


def test_reference_exercises_both_rules():
    "The reference cases drop audio and visual labels, and the ramp case drops fewer than the full-ratio one."
    drops = [(len(c['drop_a']), len(c['drop_v'])) for c in REF['denoise']]
    assert any(a > 0 for a, _ in drops) and all(v > 0 for _, v in drops)
    assert drops[1][1] < drops[0][1]


# Wrong variants: the comparison must see each of them.

def test_catches_mirrored_rule(train):
    m = seeded(True)
    c = REF['denoise'][2]
    x, y = batch(train, m)
    la, lv = ranking_losses(m.train(), x, y)
    ratio_a, ratio_v = (torch.tensor(c[k], dtype=torch.float64) for k in ('ratio_a', 'ratio_v'))
    right = drop_noisy_labels(la, lv, y, ratio_a, ratio_v)
    wrong = drop_noisy_labels(lv, la, y, ratio_a, ratio_v)       # the audio and visual losses swapped
    assert pairs(right[1]) == sorted(c['drop_v'])
    assert pairs(wrong[1]) != sorted(c['drop_v'])


def test_catches_linear_warmup(train):
    "A linear ramp (ratio x progress, no compounding) drops other labels than the official loop at its third batch."
    c = REF['denoise'][1]
    progress = ((c['epoch'] - 1) * c['iters_per_epoch'] + c['batch']) / (c['warmup'] * c['iters_per_epoch'])
    linear = [min(1.0, progress) * np.array(c[k]) for k in ('ratio_a', 'ratio_v')]
    m = seeded(True)
    deno = LabelDenoisingHook(*linear, c['iters_per_epoch'], warmup=None)
    step_figures(m, *batch(train, m), (deno, ContrastiveHook(1.0, 0.1)), c['epoch'], c['batch'])
    assert pairs(deno.drop_v) != sorted(c['drop_v'])


def test_catches_wrong_smoothing_and_form(train):
    for hook in (ContrastiveHook(1.0, 0.2), ContrastiveHook(1.0, 0.1, form='ce')):
        m = seeded(False)
        d = figure_differences(step_figures(m, *batch(train, m), (hook,)), REF['estimator'])
        assert d['terms'] > 100 * TERMS and d['grad_norm'] > 100 * GRAD_NORM, d


class SmoothedDrop(LabelDenoisingHook):
    "Wrong: a dropped visual label becomes the smoothed negative 0.05 instead of 0."
    def after_loss(self, b):
        super().after_loss(b)
        b.parts['v'] = bce(b.out.v_prob, smooth(b.y.weak * ~self.drop_v, 'v'))


def test_catches_smoothed_drop_target(train):
    c = REF['denoise'][0]
    m = seeded(True)
    deno = SmoothedDrop(c['ratio_a'], c['ratio_v'], c['iters_per_epoch'], c['warmup'])
    d = figure_differences(step_figures(m, *batch(train, m), (deno, ContrastiveHook(1.0, 0.1)), c['epoch'], c['batch']), c, {'a': 2.0})
    assert d['terms'] > 100 * TERMS, d


def test_denoising_over_many_steps(train):
    "Three epochs of the whole split in file order (Adam, dropout 0, CMPAE's ratios): the official losses and weights, to rounding."
    ref, B = REF['multistep'], REF['batch']
    m = seeded(True)
    opt = torch.optim.Adam(m.parameters(), lr=ref['lr'])
    x, y = m.segment_inputs(*(train.features[k] for k in m.input_kinds)), torch.as_tensor(train.weak).float()
    iters = -(-len(y) // B)
    hooks = (LabelDenoisingHook(REF['cmpae_ratios']['audio'], REF['cmpae_ratios']['visual'], iters, ref['warmup']), ContrastiveHook(1.0, 0.1))
    for epoch, want in enumerate(ref['last_batch_terms'], 1):
        for h in hooks: h.before_epoch(m, epoch)
        for i in range(0, len(y), B):
            _, parts = train_step(m, opt, tuple(t[i:i + B] for t in x), Targets(y[i:i + B]), LOSS_PRESETS['base'], None, hooks=hooks)
        got = {**parts, 'a': parts['a'] / 2.0}
        assert max(abs(got[k] - v) / v for k, v in want.items()) < 5e-5, (epoch, got, want)
    sd = {jomold_name(k): w for k, w in m.state_dict().items()}
    noise = {'fc_frame_att.bias', 'fc_av_att.bias'}     # gradient mathematically 0: Adam turns its float noise into full steps
    for k, (norm, total) in ref['weights'].items():
        if k in noise: continue
        assert abs(sd[k].norm().item() - norm) <= 1e-5 * norm + 1e-6, k
        assert abs(sd[k].sum().item() - total) <= 1e-3 * norm + 1e-6, k     # a sum of many signed values: rounding shows more
