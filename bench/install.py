"""Benchmark: README's set-up command in a fresh virtual environment: its wall time and the environment's size.

Creates a virtual environment in a temporary folder, runs `pip install -e ".[dev]"` there (from this checkout; pip's
own index settings and cache apply, as for a user), and prints the time, the environment's size and the share of it
that NVIDIA's CUDA libraries and Triton take (PyPI's torch brings them even to a machine without a GPU).
Run: python bench/install.py [--extra dev]
"""
import argparse, os, subprocess, sys, tempfile, time
from pathlib import Path

from common import machine

ROOT = Path(__file__).resolve().parents[1]


def size(path:Path) -> int:
    "Bytes of the regular files under `path` (links not followed)."
    return sum(p.stat().st_size for p in path.rglob('*') if p.is_file() and not p.is_symlink())


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--extra', default='dev', help='the extra to install (empty: the package alone)')
    args = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as d:
        env = Path(d)/'env'
        subprocess.run([sys.executable, '-m', 'venv', str(env)], check=True)
        target = f".[{args.extra}]" if args.extra else '.'
        t0 = time.perf_counter()
        r = subprocess.run([str(env/'bin'/'python'), '-m', 'pip', 'install', '-q', '-e', target], cwd=ROOT,
                           capture_output=True, text=True, env={**os.environ, 'PIP_NO_INPUT': '1'})
        seconds = time.perf_counter() - t0
        if r.returncode: sys.exit(f"pip install failed (status {r.returncode}):\n{r.stderr[-2000:]}")
        site = next((env/'lib').glob('python*/site-packages'))
        total = size(env)
        cuda = sum(size(p) for p in site.iterdir() if p.is_dir() and (p.name.startswith(('nvidia', 'triton'))))
        print(f'pip install -e "{target}" in a fresh virtual environment: {seconds / 60:.1f} min wall time')
        print(f"environment: {total / 1e9:.1f} GB, of which NVIDIA's CUDA libraries and Triton {cuda / 1e9:.1f} GB")
