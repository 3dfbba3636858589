"""Benchmark: the ten AVVP numbers for a 1,200-video split, vectorised (valor_nb.metrics) vs a per-video loop.

The loop is valor_nb.testing.reference_scores, a plain transcription of the official procedure. Both get the same random
sparse predictions and ground truth; the numbers must be identical (float equality), and the ratio is printed.
Run: python bench/metrics.py [--videos 1200] [--repeats 5]
"""
import argparse, sys, time

import numpy as np

from valor_nb.metrics import AVVP_KEYS, avvp_scores
from valor_nb.testing import reference_scores


def random_split(n, seed=0):
    "LLP-like 0/1 arrays (n, 10, 25): GT with a few classes per video in runs; predictions = GT with 8% of segments flipped."
    rng = np.random.default_rng(seed)
    t = np.arange(10)[None, :, None]
    def gt():
        present = rng.random((n, 1, 25)) < 0.07
        start, length = rng.integers(0, 10, (n, 1, 25)), rng.integers(1, 11, (n, 1, 25))
        return present & (t >= start) & (t < start + length)
    def predict(g):
        noisy = g.any(1, keepdims=True) | (rng.random((n, 1, 25)) < 0.03)   # flips inside predicted classes only
        return g ^ (noisy & (rng.random(g.shape) < 0.08))
    ga, gv = gt(), gt()
    return [predict(ga), predict(gv), ga, gv]


def best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); out = fn(); times.append(time.perf_counter() - t0)
    return min(times), out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--videos', type=int, default=1200)
    ap.add_argument('--repeats', type=int, default=5)
    args = ap.parse_args()
    arrays = random_split(args.videos)
    t_cold, _ = best_time(lambda: avvp_scores(*arrays), 1)   # first call also builds the cached look-up tables
    t_vec, ours = best_time(lambda: avvp_scores(*arrays), args.repeats)
    t_loop, ref = best_time(lambda: reference_scores(*arrays), max(1, args.repeats // 5))
    identical = all(ours[k] == ref[k] for k in AVVP_KEYS)
    print(f"AVVP metrics, {args.videos} random videos (10 segments x 25 classes), best of {args.repeats}")
    print(f"{'metric':<11}{'vectorised':>20}{'per-video loop':>20}")
    for k in AVVP_KEYS: print(f"{k:<11}{ours[k]:>20.12f}{ref[k]:>20.12f}")
    print(f"vectorised:     {1000 * t_vec:9.2f} ms   (first call, building the look-up tables: {1000 * t_cold:.2f} ms)")
    print(f"per-video loop: {1000 * t_loop:9.2f} ms")
    print(f"ratio:          {t_loop / t_vec:9.1f}x   identical numbers: {identical}")
    sys.exit(0 if identical else 1)
