"CMPAE against its official code: evaluation outputs, the first batches' loss terms and gradients, and the threshold search."
import json
import os, subprocess, tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from valor_nb.cmpae import (CMPAE_PARAMS, CMPAELoss, THRESHOLD_CANDIDATES, ClassThresholds, read_class_thresholds,
                            score_with_thresholds, select_class_thresholds, threshold_table, write_class_thresholds_xlsx)
from valor_nb.evidential import EvidentialConfig, EvidentialHAN, to_cmpae_name
from valor_nb.infer import model_inputs, predict
from valor_nb.jomold import LabelDenoisingHook
from valor_nb.losses import LOSS_PRESETS, Targets
from valor_nb.synth import SynthConfig, synth_llp
from valor_nb.train import train_step

REF = Path(__file__).parent/'reference'
OFFICIAL = Path(os.environ.get('VALOR_CMPAE_REPO', '/nonexistent'))   # a clone of the official CMPAE repository (skipped without)
NO_DROPOUT = dict(dropout=0.0, cls_dropout=0.0, cross_dropout=0.0)


def ref(name): return json.loads((REF/f'cmpae_{name}.json').read_text())

@pytest.fixture(scope='module')
def synth():
    torch.set_num_threads(1)
    return synth_llp(SynthConfig())

def shared_model(seed=0):
    "Our model from the seed the reference used, without dropout (full size, as the official net)."
    torch.manual_seed(seed)
    return EvidentialHAN(EvidentialConfig(**NO_DROPOUT))


def test_eval_outputs_match_official(synth):
    r = ref('eval_outputs')
    m = shared_model(r['seed']).eval()
    x = [synth['val'].features[k][:r['videos']].float() for k in m.input_kinds]
    with torch.no_grad():
        fused, (one, ev) = m(*x), m.one_pass(*x, cross=True)
    pairs = {'a_prob': fused.a_prob, 'v_prob': fused.v_prob, 'frame_prob': fused.segment_prob, 'global_prob_ca': one.video_prob,
             'global_uct_ca': ev.global_uct, 'a_uct_ca': ev.a_uct, 'v_uct_ca': ev.v_uct}
    for k, ours in pairs.items():
        torch.testing.assert_close(ours, torch.tensor(r[k]), rtol=1e-5, atol=1e-6, msg=k)


def first_batches(synth, epoch, mutual_flip=False, ratios=None):
    "Our loss terms (unweighted) and gradients on the reference's batches, through the trainer's `train_step` and our hooks."
    r = ref('first_batch')
    m, p = shared_model(r['seed']), CMPAE_PARAMS
    ra, rv = ratios or (np.array(r['noise_ratios']['audio']), np.array(r['noise_ratios']['visual']))
    cm = CMPAELoss(p)
    if mutual_flip: cm.batch = 1                         # the wrong student on every batch
    hooks = (LabelDenoisingHook(ra, rv, 2, r['warm_up_epoch'], (p.audio_weight, p.visual_weight, p.video_weight)), cm)
    for h in hooks[:1]: h.before_epoch(m, epoch)
    opt, out = torch.optim.SGD(m.parameters(), lr=0.0), []
    for row in r[f'epoch{epoch}']:
        idx = np.array(row['videos'])
        x = tuple(synth['train'].features[k][idx].float() for k in m.input_kinds)
        _, parts = train_step(m, opt, x, Targets(torch.as_tensor(synth['train'].weak[idx]).float()), LOSS_PRESETS['base'], None, hooks=hooks)
        terms = {k: v / r['weights'][k] for k, v in parts.items()}
        grads = {to_cmpae_name(n): q.grad.double() for n, q in m.named_parameters() if q.grad is not None and q.grad.abs().sum() > 0}
        out.append((terms, grads))
    return out

def mismatches(synth, epoch, **kw) -> list:
    "Where our terms or gradients differ from the official ones (terms: 1e-5 relative; gradient norms: 1e-5 relative; sums: 1e-4 of the norm; 1e-7 absolute for the gradients that are zero in exact arithmetic, e.g. a bias under a softmax over time)."
    bad = []
    for row, (terms, grads) in zip(ref('first_batch')[f'epoch{epoch}'], first_batches(synth, epoch, **kw)):
        for k, v in row['terms'].items():
            if abs(terms[k] - v) > 1e-5 * abs(v) + 1e-9: bad.append(f"batch {row['batch_idx']} term {k}: {terms[k]} vs {v}")
        if set(grads) - set(row['grads']): bad.append(f"gradients the official net lacks: {sorted(set(grads) - set(row['grads']))}")
        for n, g in row['grads'].items():
            ours = grads.get(n)
            norm, total = (ours.norm().item(), ours.sum().item()) if ours is not None else (0.0, 0.0)
            if abs(norm - g['norm']) > 1e-5 * g['norm'] + 1e-8 or abs(total - g['sum']) > 1e-5 * abs(g['sum']) + 1e-4 * g['norm'] + 1e-7:
                bad.append(f"batch {row['batch_idx']} grad {n}: norm {norm} vs {g['norm']}, sum {total} vs {g['sum']}")
    return bad

def test_first_batches_match_official(synth):
    assert mismatches(synth, 1) == []        # epoch 1: the warm-up keeps every label; batch 0 modalities learn, batch 1 global

def test_denoised_batches_match_official(synth):
    assert mismatches(synth, 2) == []        # epoch 2: JoMoLD's denoising at the full ratios

def test_parity_sees_a_wrong_student(synth):
    assert any('grad' in m for m in mismatches(synth, 1, mutual_flip=True))

def test_parity_sees_missing_denoising(synth):
    assert any('term v' in m for m in mismatches(synth, 2, ratios=(np.zeros(25), np.zeros(25))))


@pytest.fixture(scope='module')
def val_outputs(synth):
    r = ref('thresholds')
    m = shared_model(r['seed']).eval()
    n = r['videos']
    val = replace(synth['val'], names=synth['val'].names[:n], weak=synth['val'].weak[:n], gt_a=synth['val'].gt_a[:n],
                  gt_v=synth['val'].gt_v[:n], features={k: v[:n] for k, v in synth['val'].features.items()}, labels={}, teachers={})
    return predict(m, model_inputs(m, val)), val

def test_threshold_search_matches_official(val_outputs):
    r, (out, val) = ref('thresholds'), val_outputs
    assert tuple(r['candidates']) == THRESHOLD_CANDIDATES
    np.testing.assert_allclose(threshold_table(out, val), np.array(r['evt_v_table']), rtol=0, atol=1e-9)
    th = select_class_thresholds(out, val)
    assert th.visual == tuple(r['visual_thresholds']) and th.audio == (0.45,) * 25 and th.segment == 0.25

def test_threshold_search_sees_a_wrong_rule(val_outputs):
    "On a tie the official search keeps the larger threshold (its `>=`); the first best (`argmax`) must be told apart."
    r, (out, val) = ref('thresholds'), val_outputs
    first_best = tuple(THRESHOLD_CANDIDATES[int(np.argmax(row))] for row in threshold_table(out, val))
    assert first_best != tuple(r['visual_thresholds'])
    assert select_class_thresholds(out, val, metric='seg_v').visual != tuple(r['visual_thresholds'])

def test_scores_differ_from_pinned_protocol(val_outputs):
    out, val = val_outputs
    s = score_with_thresholds(out, val, ClassThresholds.uniform(25, 0.45, 0.25))
    pinned = score_with_thresholds(out, val, ClassThresholds.uniform(25, 0.5, 0.5))
    assert s != pinned


def test_released_thresholds_readable():
    if not OFFICIAL.exists(): pytest.skip('the official CMPAE repository is not on disk (VALOR_CMPAE_REPO)')
    with tempfile.TemporaryDirectory() as d:
        p = Path(d)/'cmpae_s0_early.xlsx'
        p.write_bytes(subprocess.run(['git', '-C', str(OFFICIAL), 'show', 'HEAD:save/pretrained/cmpae_s0_early.xlsx'],
                                     capture_output=True, check=True).stdout)
        th = read_class_thresholds(p)
    assert len(th.visual) == 25 and set(th.visual) <= set(THRESHOLD_CANDIDATES)
    assert len(set(th.visual)) > 1                                  # a real per-class choice, not one value

def test_threshold_file_round_trip_and_refusals(tmp_path):
    vis = tuple(THRESHOLD_CANDIDATES[i % 10] for i in range(25))
    assert read_class_thresholds(write_class_thresholds_xlsx(tmp_path/'ok.xlsx', vis)).visual == vis
    write_class_thresholds_xlsx(tmp_path/'zero.xlsx', (0.0,) * 25)
    with pytest.raises(ValueError, match=r'\(0, 1\]'): read_class_thresholds(tmp_path/'zero.xlsx')
    write_class_thresholds_xlsx(tmp_path/'long.xlsx', vis + (0.5,))
    with pytest.raises(ValueError, match='extra'): read_class_thresholds(tmp_path/'long.xlsx')
