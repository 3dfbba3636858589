"""Benchmark: wall time of the report notebooks with their default parameters (synthetic LLP, CPU), through papermill.

Run from the repository root: python bench/reports.py [ablation labelers fidelity]
Outputs go to a temporary folder (the committed figures/ are left alone), and the notebooks run there, so their run
cache starts empty: notebooks of one invocation share runs as under valor_reproduce (ablation after labelers reads
the 6 runs they share), a second invocation does not read the first's. The times are printed.
"""
import subprocess, sys, tempfile, time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

if __name__ == '__main__':
    names = sys.argv[1:] or ['ablation', 'labelers', 'fidelity']
    print(f"report notebooks, default parameters, CPU with {torch.get_num_threads()} threads")
    with tempfile.TemporaryDirectory() as d:
        for name in names:
            t0 = time.perf_counter()
            subprocess.run([sys.executable, '-m', 'papermill', str(ROOT/'nbs'/f'{name}.ipynb'), str(Path(d)/f'{name}.ipynb'),
                            '-k', 'python3', '-p', 'out_dir', d], check=True, capture_output=True, cwd=d)
            print(f"{name:10s} {time.perf_counter() - t0:7.1f} s")
