"""Calibration of the synthetic LLP's one difficulty knob: the plain HAN on weak labels against Table 1's HAN row.

`SynthConfig.signal` scales the class directions of the VGGish / ResNet-152 / R(2+1)D features. This trains the
baseline (HAN preset, weak labels only, the synthetic report recipe) on the default synthetic LLP at each `--signal`
for `--seeds` seeds and prints the test split's segment-level Type@AV (mean ± std) beside the paper's 54.0. Only this
row is used to set the knob; the training comparisons of the tables are never looked at.
Run: python bench/difficulty.py [--signal 0.18 0.2 0.22] [--seeds 3]   (about 45 s per run on 2 CPU cores)
"""
import argparse, time
from dataclasses import replace

import numpy as np
from common import machine
from valor_nb.report import paper_table, report_data, run_row
from valor_nb.synth import SynthConfig

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--signal', type=float, nargs='+', default=[SynthConfig().signal])
    ap.add_argument('--seeds', type=int, default=3)
    a = ap.parse_args()
    paper = float(paper_table('table1').set_index('method').loc['HAN', 'seg_type'])
    print(machine())
    for signal in a.signal:
        data = report_data(synth=replace(SynthConfig(), kinds=('vggish', 'res152', 'r2plus1d_18'), signal=signal))
        t0 = time.perf_counter()
        scores = [r['seg_type'] for r in run_row(data, 'han', 'base', seeds=range(a.seeds), split='test')]
        print(f"signal {signal:.3f}: HAN segment Type@AV {np.mean(scores):.2f} ± {np.std(scores, ddof=1) if len(scores) > 1 else 0:.2f} "
              f"over {len(scores)} seed(s) (paper 54.0 -> {np.mean(scores) - paper:+.2f}); {time.perf_counter() - t0:.0f} s")
