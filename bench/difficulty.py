"""Calibration of the synthetic LLP's difficulty knobs: the plain HAN on weak labels against Table 1's HAN row.

`SynthConfig.audio_signal` and `visual_signal` scale the class directions of the VGGish and of the ResNet-152 /
R(2+1)D features. This trains the baseline (HAN preset, weak labels only, the synthetic report recipe) on the default
synthetic LLP at each `--signals AUDIO/VISUAL` pair for `--seeds` seeds and prints the test split's segment-level audio,
visual and Type@AV F-scores (mean ± std) beside the paper's. Only this row, which no teacher touches, sets the knobs;
the training comparisons of the tables are never looked at.
Run: python bench/difficulty.py [--signals 0.4/0.16 0.19/0.19] [--seeds 3]   (about 45 s per run on 2 CPU cores)
"""
import argparse, time
from dataclasses import replace

import numpy as np
from common import machine
from valor_nb.paper import TABLES
from valor_nb.report import report_data, run_row
from valor_nb.synth import SynthConfig

KEYS = ('seg_a', 'seg_v', 'seg_type')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = SynthConfig()
    ap.add_argument('--signals', nargs='+', default=[f"{default.audio_signal}/{default.visual_signal}"], metavar='AUDIO/VISUAL')
    ap.add_argument('--seeds', type=int, default=3)
    a = ap.parse_args()
    paper = TABLES['table1'].paper_row('HAN')
    print(machine())
    print('paper (real LLP): ' + ', '.join(f"{k} {float(paper[k]):.1f}" for k in KEYS))
    for pair in a.signals:
        audio, visual = map(float, pair.split('/'))
        data = report_data(synth=replace(default, kinds=('vggish', 'res152', 'r2plus1d_18'), audio_signal=audio, visual_signal=visual))
        t0 = time.perf_counter()
        runs = run_row(data, 'han', 'base', seeds=range(a.seeds), split='test')
        cells = [f"{k} {np.mean([r[k] for r in runs]):.2f} ± {np.std([r[k] for r in runs], ddof=1) if len(runs) > 1 else 0:.2f} "
                 f"({np.mean([r[k] for r in runs]) - float(paper[k]):+.2f})" for k in KEYS]
        print(f"signals {audio}/{visual}, {len(runs)} seed(s): " + ', '.join(cells) + f"; {time.perf_counter() - t0:.0f} s")
