"""Benchmark: the first command a new user runs, `valor_train --synthetic`, timed end to end.

The whole command in a fresh process (imports, building the synthetic LLP, 10 epochs of the standard VALOR, validation
and test), in a temporary folder; wall time per run and its last lines (the test numbers, labelled synthetic).
Run: python bench/demo.py [--runs 1]
"""
import argparse, subprocess, sys, tempfile, time

from common import machine

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--runs', type=int, default=1)
    args = ap.parse_args()
    print(machine())
    for i in range(args.runs):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            r = subprocess.run(['valor_train', '--synthetic', '--out', f"{d}/demo"], capture_output=True, text=True)
            seconds = time.perf_counter() - t0
        if r.returncode: sys.exit(f"valor_train --synthetic failed (status {r.returncode}):\n{r.stderr[-2000:]}")
        print(f"run {i + 1}: valor_train --synthetic --out DIR: {seconds:.0f} s wall time")
    print('what it printed last (its scores on the synthetic LLP):\n' + '\n'.join(r.stdout.strip().splitlines()[-5:]))
