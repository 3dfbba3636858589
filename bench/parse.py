"""Benchmark: seconds per 10-second clip of `parse` (VALOR++), with random weights, on CPU or a GPU.

Full-size models: open_clip ViT-L-14, laion_clap HTS-AT tiny (fusion), torchvision r2plus1d_18, the VALOR++ HAN. Random
weights cost what real ones cost. Times one 10-s clip (one window) stage by stage, then a 60-s video with the default
hop (5 s: 11 windows) and with hop 10 (6 windows). Run: python bench/parse.py [--device cuda] [--size 320]
"""
import argparse, tempfile
from pathlib import Path

from common import timed   # first: sets up the offline hub before transformers is imported
import torch

from valor_nb.han import build_han
from valor_nb.extract import RANDOM_EXTRACTORS, build_extractors
from valor_nb.parse import model_windows, parse, whole_seconds, write_parse
from valor_nb.teachers import build_offline_hub
from valor_nb.testing import make_clip
from valor_nb.video import decode_video


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu'); ap.add_argument('--size', type=int, default=320, help='frame side of the generated clips')
    ap.add_argument('--video', help='also time this video file')
    a = ap.parse_args()
    where = torch.cuda.get_device_name() if a.device.startswith('cuda') else f'{torch.get_num_threads()} CPU threads'
    print(f"parse (VALOR++) with random weights on {a.device} ({where})")
    build_offline_hub()
    torch.manual_seed(0)
    model = build_han('valor++').eval().to(a.device)
    extractors = build_extractors(model.input_kinds, **RANDOM_EXTRACTORS, device=a.device)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        ten, sixty = make_clip(d/'ten.mp4', size=a.size), make_clip(d/'sixty.mp4', seconds=60, size=a.size)
        t_dec, clip = timed(lambda: decode_video(ten), repeats=3)
        seen, starts, _ = model_windows(whole_seconds(clip))
        print(f"one 10-s clip ({a.size}x{a.size}, 25 fps, AAC), stage by stage:")
        print(f"  decoding (8-fps frames, 48 kHz mono)        {t_dec:7.3f} s")
        feats = {}
        for kind, f in extractors.items():
            t, feats[kind] = timed(lambda: f(seen, starts), repeats=1)
            print(f"  {kind:<12} features                     {t:7.3f} s")
        x = [torch.from_numpy(feats[k]).to(a.device) for k in model.input_kinds]
        with torch.no_grad(): t, _ = timed(lambda: model(*x), repeats=3)
        print(f"  the HAN (valor++)                          {t:7.3f} s")
        t_all, p = timed(lambda: parse(ten, model, extractors), repeats=1)
        t_write, _ = timed(lambda: write_parse(p, d/'out'), repeats=3)
        print(f"  writing JSON, CSVs and the timeline PNG    {t_write:7.3f} s")
        print(f"parse of a 10-s clip, all in:                {t_all + t_write:7.2f} s per 10-s clip")
        for hop in (5, 10):
            t, p = timed(lambda: parse(sixty, model, extractors, hop=hop), repeats=1)
            print(f"60-s video, hop {hop:>2} ({len(p.starts):>2} windows):           {t:7.2f} s  ({10 * t / 60:.2f} s per 10 s of video)")
        if a.video:
            t, p = timed(lambda: parse(a.video, model, extractors), repeats=1)
            print(f"{a.video} ({p.seconds:.2f} s, {len(p.starts)} windows): {t:7.2f} s")
