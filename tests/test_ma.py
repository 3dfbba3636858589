"MA (Wu & Yang 2021): our three stages against the official code's figures (tests/reference/ma_*.json, written by a script outside the repository that runs the official code on shared weights and data)."
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from valor_nb.han import to_official_name
from valor_nb.infer import model_inputs
from valor_nb.labels import relabel
from valor_nb.losses import LOSS_PRESETS, Targets, bce, smooth
from valor_nb.ma import (MA_LOSS, MA_PRESET, MA_RECIPE, ModalityAwareLoss, error_scale, exchange_labels,
                         exchange_partners, exchange_probs, ma_contrast, ma_labeller)
from valor_nb.jomold import ContrastiveHook
from valor_nb.synth import SynthConfig, synth_llp
from valor_nb.train import Hook, seeded_han, split_targets, train_step

REF = Path(__file__).parent/'reference'
FIRST = json.loads((REF/'ma_first_batch.json').read_text())
EXCHANGE = json.loads((REF/'ma_exchange.json').read_text())


@pytest.fixture(scope='module')
def train():
    torch.set_num_threads(1)
    return synth_llp(SynthConfig())['train']


def official_name(key):
    "MA's name of one of our parameters (its encoder's unused final norms are `norm1`/`norm2`)."
    return (to_official_name(key).replace('hat_encoder.final_norm_a.', 'hat_encoder.norm1.')
            .replace('hat_encoder.final_norm_v.', 'hat_encoder.norm2.'))


def seeded(seed):
    "The model both sides were given: the MA preset from `seed`, dropout off."
    return seeded_han(MA_PRESET, replace(MA_RECIPE, seed=seed), 25, 'cpu', {'dropout': 0.0})


def first_batch(split, ref, loss, hooks):
    "Our loss terms and gradients (official names) on the reference's first batch."
    model, B = seeded(ref['seed']), ref['B']
    x = tuple(t[:B] for t in model_inputs(model, split))
    y = Targets(*(None if t is None else t[:B] for t in split_targets(split, loss)))
    for h in hooks: h.before_epoch(model, 1)
    total, parts = train_step(model, torch.optim.SGD(model.parameters(), lr=0.0), x, y, loss, None, hooks=hooks, idx=torch.arange(B))
    for h in hooks:
        if isinstance(h, ContrastiveHook): h.detach()
    return {**parts, 'total': total}, {official_name(k): (p.grad.norm().item(), p.grad.sum().item())
                                       for k, p in model.named_parameters() if p.grad is not None}


def assert_matches(ref, terms, grads, rel=1e-5, floor=1e-6):
    "Each loss term within `rel`; each gradient's norm within `rel` and its sum within `rel` of its norm (absolute below `floor`)."
    assert terms.keys() == ref['terms'].keys()
    for k, v in ref['terms'].items(): assert terms[k] == pytest.approx(v, rel=rel), k
    assert grads.keys() == ref['grads'].keys()
    for k, (norm, total) in ref['grads'].items():
        tol = rel * norm if norm > floor else 1e-7
        assert abs(grads[k][0] - norm) <= tol and abs(grads[k][1] - total) <= tol, (k, grads[k], (norm, total))


def relabelled(train, dropped):
    "The split with the given `[video, class]` labels dropped per modality."
    keep = {m: torch.as_tensor(train.weak).float() for m in 'av'}
    for m in 'av':
        for i, c in dropped[m]: keep[m][i, c] = 0
    return relabel(train, lambda s: {m: keep[m][:, None].expand(-1, 10, -1).clone() for m in 'av'})


def test_stage1_first_batch_matches_official(train):
    ref = FIRST['stage1']
    assert_matches(ref, *first_batch(train, ref, LOSS_PRESETS['base'], (ma_contrast(),)))


@pytest.mark.parametrize('stage', ['stage3', 'stage3_handmade'])
def test_stage3_first_batch_matches_official(train, stage):
    ref = FIRST[stage]
    assert_matches(ref, *first_batch(relabelled(train, ref['dropped']), ref, MA_LOSS, (ModalityAwareLoss(), ma_contrast())))


class GuidedVisual(Hook):
    "A wrong retrain: the visual target of a dropped label 0.05 (the smoothing's floor) instead of the official 0."
    def after_loss(self, b): b.parts['v'] = bce(b.out.v_prob, smooth(b.y.labels_v.amax(1), 'v'))


@pytest.mark.parametrize('stage, loss, hooks', [
    ('stage1', LOSS_PRESETS['base'], ()),                                                          # no contrast
    ('stage3', MA_LOSS, (ModalityAwareLoss(video_from_audio=False), ma_contrast())),           # weak video target
    ('stage3_handmade', MA_LOSS, (ModalityAwareLoss(), GuidedVisual(), ma_contrast())),        # dropped visual -> 0.05
    ('stage3_handmade', LOSS_PRESETS['base'], (ma_contrast(),)),                               # labels ignored
])
def test_wrong_variants_are_seen(train, stage, loss, hooks):
    ref = FIRST[stage]
    split = relabelled(train, ref['dropped']) if 'dropped' in ref else train
    with pytest.raises(AssertionError): assert_matches(ref, *first_batch(split, ref, loss, hooks))


def our_drops(train, keep):
    "Dropped `[video, class]` pairs of labels `(keep_a, keep_v)`, per modality."
    w = torch.as_tensor(train.weak) > 0
    return {m: sorted((w & ~k).nonzero().tolist()) for m, k in zip('av', keep)}


def test_exchange_matches_official(train):
    partners = torch.tensor(EXCHANGE['partners'])
    assert torch.equal(exchange_partners(train.weak, EXCHANGE['partner_seed']), partners)      # our seeded draw, reproduced
    model = seeded(EXCHANGE['random_base_seed']).eval()
    labels = relabel(train, ma_labeller(model, partners=partners)).labels
    drops = our_drops(train, [labels[m][:, 0] > 0 for m in 'av'])
    ref = EXCHANGE['random']
    assert len(ref['dropped_a']) > 0 and len(ref['dropped_v']) > 0
    assert drops == {'a': ref['dropped_a'], 'v': ref['dropped_v']}


def test_exchange_wrong_rule_is_seen(train):
    "Deciding the visual label from the visual probability alone (the official rule also asks the audio one) disagrees."
    partners = torch.tensor(EXCHANGE['partners'])
    out = exchange_probs(seeded(EXCHANGE['random_base_seed']).eval(), train, partners)
    assert our_drops(train, exchange_labels(train.weak, out))['v'] == EXCHANGE['random']['dropped_v']
    y = torch.as_tensor(train.weak) > 0
    wrong_v = y & ~(out['a_swap'].v_prob / error_scale(out['own'].v_prob, y) < 0.5)
    assert our_drops(train, (y, wrong_v))['v'] != EXCHANGE['random']['dropped_v']


