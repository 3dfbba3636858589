"""Benchmark: loading a split's per-video `.npy` folders, cold (every file read and checked) vs warm (the packed cache).

Writes a random LLP-shaped folder (VGGish, ResNet-152 and R(2+1)D features, harvested labels) of `--videos` training
videos, ages its files past the cache's two-second "racy" window, then times `load_split` three times: reading every
file without the cache, the first load with it (read, checked, packed), and the second (the packed arrays). Ends with
one `valor_train` epoch end to end on the folder. Run: python bench/load.py [--videos 1000]
"""
import argparse, os, subprocess, tempfile, time
from pathlib import Path

from common import machine
import shutil
from valor_nb.data import FEATURE_SHAPES, load_arrays, load_split, random_split, write_llp

FEATURES = {'vggish': 'vggish', 'res152': 'res152', 'r2plus1d_18': 'r2plus1d_18'}


def seconds(fn):
    t0 = time.perf_counter(); out = fn(); return time.perf_counter() - t0, out


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--videos', type=int, default=1000)
    a = ap.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_llp(d, {'train': random_split(a.videos, seed=1), 'val': random_split(100, seed=2), 'test': random_split(100, seed=3)})
        old = time.time() - 3600
        for f in d.rglob('*.npy'): os.utime(f, (old, old))
        size = sum(f.stat().st_size for f in d.rglob('*.npy')) / 1e9
        print(f"{a.videos} training videos, {len(list(d.rglob('*.npy')))} .npy files, {size:.2f} GB")
        load = lambda: load_split(d, 'train', features=FEATURES, labels={'a': 'labels_a', 'v': 'labels_v'})
        names = load_split(d, 'train').names
        arrays = [(d/k, FEATURE_SHAPES[k]) for k in FEATURES] + [(d/f'labels_{m}', (10, 25)) for m in 'av']
        t_files, _ = seconds(lambda: [load_arrays(f, names, shape, cache=False) for f, shape in arrays])
        t_cold, _ = seconds(load)
        t_warm, split = seconds(load)
        print(f"load_split('train'), every file read and checked:      {t_files:7.2f} s")
        print(f"  first load with the cache (read, checked, packed):    {t_cold:7.2f} s")
        print(f"  second load (the packed arrays):                      {t_warm:7.2f} s  ({t_files / t_warm:.0f}x faster)")
        cmd = [shutil.which('valor_train'), str(d), '--preset', 'valor', '--epochs', '1', '--quiet', '--out', str(d/'run'),
               '--features', *(f'{k}={v}' for k, v in FEATURES.items()), '--labels', 'a=labels_a', 'v=labels_v']
        t_train, res = seconds(lambda: subprocess.run(cmd, capture_output=True, text=True))
        assert res.returncode == 0, res.stderr[-2000:]
        print(f"valor_train, 1 epoch end to end (warm cache):           {t_train:7.2f} s")
