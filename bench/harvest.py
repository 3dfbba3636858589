"""Benchmark: harvesting throughput (clips/s) of the two teachers, with random weights, on CPU or a GPU.

CLIP is open_clip ViT-L-14 (10 frames per clip, 224 x 224); CLAP is laion_clap's fusion HTS-AT tiny + RoBERTa (10 one-second
segments per clip, plus the whole clip's token map for VALOR++). Decoding (PyAV, CPU) is timed separately on generated
10-s mp4 clips. Random weights cost what real ones cost. Run: python bench/harvest.py [--device cuda] [--clips 8]
"""
import argparse, tempfile
from pathlib import Path

from common import timed   # first: sets up the offline hub before transformers is imported
import numpy as np
import torch

from valor_nb.teachers import ClapTeacher, ClipTeacher, build_offline_hub
from valor_nb.video import audio_segments


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--clips', type=int, default=4)
    ap.add_argument('--no-decode', action='store_true', help='skip the PyAV decoding figure')
    a = ap.parse_args()
    n = a.clips
    print(f"teachers with random weights on {a.device} ({torch.cuda.get_device_name() if a.device.startswith('cuda') else f'{torch.get_num_threads()} CPU threads'}), batches of {n} clips")
    if not a.no_decode:
        from valor_nb.testing import make_clip
        from valor_nb.video import load_clip
        with tempfile.TemporaryDirectory() as d:
            path = make_clip(Path(d)/'clip.mp4', size=320)
            print(f"decoding (PyAV, 25 fps 320x320 + AAC, 8-fps frames and 48 kHz mono): {1 / timed(lambda: load_clip(path))[0]:6.1f} clips/s")
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (10, 360, 480, 3), dtype=np.uint8) for _ in range(n)]
    waves = [rng.standard_normal(480_000).astype(np.float32) * 0.1 for _ in range(n)]
    torch.manual_seed(0)
    clip = ClipTeacher(model='ViT-L-14', weights=None, device=a.device)
    t, _ = timed(lambda: clip(frames))
    print(f"CLIP ViT-L-14, 10 frames per clip:            {n / t:6.2f} clips/s  ({t / n:.3f} s per clip)")
    build_offline_hub()
    clap = ClapTeacher(weights=None, device=a.device)
    t_seg, _ = timed(lambda: clap(np.concatenate([audio_segments(w) for w in waves])))
    t_tok, _ = timed(lambda: clap.token_maps(waves))
    print(f"CLAP HTS-AT tiny, 10 segments per clip:       {n / t_seg:6.2f} clips/s  ({t_seg / n:.3f} s per clip)")
    print(f"CLAP token map of the whole clip (VALOR++):   {n / t_tok:6.2f} clips/s  ({t_tok / n:.3f} s per clip)")
    print(f"both teachers together:                       {n / (t + t_seg + t_tok):6.2f} clips/s")
