"The vectorised metric against the per-video loop (property test) and against the known values on real LLP."
import numpy as np
from hypothesis import given, settings, strategies as st

from valor_nb.testing import reference_fidelity, reference_scores
from valor_nb.data import load_split
from valor_nb.metrics import AVVP_KEYS, avvp_scores, label_fidelity, predictions, weak_as_dense, classwise_f


def sparse_runs(rng, n, density, run_bias):
    "Random 0/1 arrays (n, 10, 25): i.i.d. segments, or runs of random length (run_bias=1)."
    x = rng.random((n, 10, 25)) < density
    runs = np.zeros_like(x)
    starts, lengths = rng.integers(0, 10, (n, 25)), rng.integers(1, 11, (n, 25))
    on = rng.random((n, 25)) < density
    t = np.arange(10)[None, :, None]
    runs = on[:, None, :] & (t >= starts[:, None, :]) & (t < (starts + lengths)[:, None, :])
    pick = rng.random((n, 1, 25)) < run_bias
    return np.where(pick, runs, x)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 25),
       density=st.sampled_from([0.0, 0.02, 0.1, 0.3, 0.7, 1.0]), run_bias=st.sampled_from([0.0, 0.5, 1.0]))
def test_scores_equal_per_video_loop(seed, n, density, run_bias):
    rng = np.random.default_rng(seed)
    pa, pv, ga, gv = (sparse_runs(rng, n, density * rng.random(), run_bias) for _ in range(4))
    ours, ref = avvp_scores(pa, pv, ga, gv), reference_scores(pa, pv, ga, gv)
    assert list(ours) == list(AVVP_KEYS)
    for k in AVVP_KEYS: assert ours[k] == ref[k], (k, ours[k], ref[k])   # float equality, not closeness


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 20))
def test_fidelity_equals_loop(seed, n):
    rng = np.random.default_rng(seed)
    la, lv, ga, gv = (sparse_runs(rng, n, 0.3, 0.5) for _ in range(4))
    ours, ref = label_fidelity(la, lv, ga, gv), reference_fidelity(la, lv, ga, gv)
    for m in ('a', 'v', 'av'): assert ours[m] == ref[m], m


def test_many_classes_sum_in_class_order():
    "Videos where 20+ classes count: NumPy's pairwise sum would differ in the last bits from a sequential one."
    rng = np.random.default_rng(1)
    pa, pv, ga, gv = (rng.random((40, 10, 25)) < 0.5 for _ in range(4))
    ours, ref = avvp_scores(pa, pv, ga, gv), reference_scores(pa, pv, ga, gv)
    assert all(ours[k] == ref[k] for k in AVVP_KEYS)


def test_predictions_gate_and_threshold():
    vp = np.array([[0.5, 0.49]]); fa = np.full((1, 10, 2), 0.5); fv = np.full((1, 10, 2), 0.9)
    pa, pv = predictions(vp, fa, fv)
    assert pa[..., 0].all() and not pa[..., 1].any() and pv[..., 0].all()
    pa, _ = predictions(vp, fa, fv, threshold=0.6)
    assert not pa.any()


def test_known_values_on_real_test_split(llp_dir):
    test = load_split(llp_dir, 'test')
    assert test.gt_a.shape == (1200, 10, 25)
    empty = np.zeros_like(test.gt_a)
    s = avvp_scores(empty, empty, test.gt_a, test.gt_v)
    assert round(s['seg_a'], 4) == 0.5 and round(s['seg_v'], 4) == 10.0833 and round(s['seg_av'], 4) == 14.5
    assert round(s['seg_type'], 4) == 8.3611 and s['seg_event'] == 0.0
    perfect = avvp_scores(test.gt_a, test.gt_v, test.gt_a, test.gt_v)
    assert perfect == dict.fromkeys(AVVP_KEYS, 100.0)


def test_table7_row1_weak_labels_everywhere(llp_dir):
    test = load_split(llp_dir, 'test')   # 2020 audio annotations: what the paper used
    dense = weak_as_dense(test.weak)
    fid = label_fidelity(dense, dense, test.gt_a, test.gt_v)
    assert {m: round(x, 2) for m, x in fid.items()} == {'a': 79.33, 'v': 69.30, 'av': 60.69}
    assert fid == reference_fidelity(dense, dense, test.gt_a, test.gt_v)


def test_real_split_scores_equal_loop(llp_dir):
    "Weak labels as predictions on the real validation split: real annotation structure, bit-equal to the loop."
    val = load_split(llp_dir, 'val')
    dense = weak_as_dense(val.weak)
    assert avvp_scores(dense, dense, val.gt_a, val.gt_v) == reference_scores(dense, dense, val.gt_a, val.gt_v)


def test_classwise_matches_fidelity_on_one_class():
    rng = np.random.default_rng(3)
    p, g = rng.random((30, 10, 25)) < 0.2, rng.random((30, 10, 25)) < 0.2
    cw = classwise_f(p, g)
    one = label_fidelity(p[..., 4:5], p[..., 4:5], g[..., 4:5], g[..., 4:5])['a']
    assert cw[4] == one and cw.shape == (25,)
