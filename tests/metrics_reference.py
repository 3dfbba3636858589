"""The AVVP metric as a plain per-video, per-class loop, written from ../shared/specs/metrics.md.

Deliberately naive (lists, Python loops, one video at a time): the reference that the vectorised
`valor_nb.metrics` must equal to the last bit, and the baseline of bench/metrics.py.
"""
import numpy as np


def _f_scores(tp, fp, fn):
    "Per-video score from per-class count lists: mean F over counted classes, 1.0 when none counts."
    fs = []
    for c in range(len(tp)):
        if tp[c] + fp[c] != 0 or tp[c] + fn[c] != 0:
            fs.append(2 * tp[c] / (2 * tp[c] + fn[c] + fp[c]))
    return 1.0 if len(fs) == 0 else sum(fs) / len(fs)


def _segment_counts(P, G):
    "P, G: (C, T) float arrays of one video."
    return np.sum(P * G, axis=1), np.sum(P * (1 - G), axis=1), np.sum((1 - P) * G, axis=1)


def _runs(row):
    "Maximal runs of ones in a 1-D 0/1 array, each as a 0/1 indicator array."
    runs, start = [], None
    for t, x in enumerate(list(row) + [0]):
        if x and start is None: start = t
        if not x and start is not None:
            ind = np.zeros(len(row)); ind[start:t] = 1; runs.append(ind); start = None
    return runs


def _event_counts(P, G):
    C = P.shape[0]
    tp, fp, fn = np.zeros(C), np.zeros(C), np.zeros(C)
    for c in range(C):
        pr, gr = _runs(P[c]), _runs(G[c])
        match = lambda x, y: np.sum(x * y) >= 0.5 * np.sum(x + y - x * y)
        for p in pr:
            if any(match(p, g) for g in gr): tp[c] += 1
            else: fp[c] += 1
        for g in gr:
            if not any(match(g, p) for p in pr): fn[c] += 1
    return tp, fp, fn


def reference_scores(pred_a, pred_v, gt_a, gt_v):
    "All ten numbers, one video at a time, as the official procedure computes them."
    names = ('a', 'v', 'av', 'event')
    per = {f'{lvl}_{m}': [] for lvl in ('seg', 'evt') for m in names}
    for i in range(len(pred_a)):
        Pa, Pv = pred_a[i].T.astype(float), pred_v[i].T.astype(float)   # (C, T)
        Ga, Gv = gt_a[i].T.astype(float), gt_v[i].T.astype(float)
        Pav, Gav = Pa * Pv, Ga * Gv
        for lvl, counts in (('seg', _segment_counts), ('evt', _event_counts)):
            ca, cv, cav = counts(Pa, Ga), counts(Pv, Gv), counts(Pav, Gav)
            per[f'{lvl}_a'].append(_f_scores(*ca))
            per[f'{lvl}_v'].append(_f_scores(*cv))
            per[f'{lvl}_av'].append(_f_scores(*cav))
            per[f'{lvl}_event'].append(_f_scores(ca[0] + cv[0], ca[1] + cv[1], ca[2] + cv[2]))
    out = {}
    for lvl in ('seg', 'evt'):
        a, v, av = (100 * np.mean(np.array(per[f'{lvl}_{m}'])) for m in ('a', 'v', 'av'))
        out.update({f'{lvl}_a': a, f'{lvl}_v': v, f'{lvl}_av': av,
                    f'{lvl}_type': (100 * np.mean(np.array(per[f'{lvl}_av'])) + 100 * np.mean(np.array(per[f'{lvl}_a']))
                                    + 100 * np.mean(np.array(per[f'{lvl}_v']))) / 3.,
                    f'{lvl}_event': 100 * np.mean(np.array(per[f'{lvl}_event']))})
    return out


def reference_fidelity(lab_a, lab_v, gt_a, gt_v):
    "Micro F over all segments, per modality, summing counts video by video."
    out = {}
    for m, (L, G) in {'a': (lab_a, gt_a), 'v': (lab_v, gt_v), 'av': (lab_a * lab_v, gt_a * gt_v)}.items():
        tp = fp = fn = 0
        for i in range(len(L)):
            t, p, n = _segment_counts(L[i].T.astype(float), G[i].T.astype(float))
            tp, fp, fn = tp + t.sum(), fp + p.sum(), fn + n.sum()
        out[m] = 100 * (2 * tp / (2 * tp + fp + fn))   # the F-score, then percent
    return out
