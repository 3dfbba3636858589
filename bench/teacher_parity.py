"""How much the official pipeline's decoding steps move the teachers' logits, on one clip (default: the real LLP clip).

CLIP: the official frames are the ffmpeg program's JPEG files (`ffmpeg -i VIDEO -r 8 %06d.jpg`); ours with the JPEG
round trip (the default) and without it. CLAP: librosa's waveform (the default) against PyAV's -3 dB mono downmix.
Weights are random (seeded) unless --clip-weights / --clap-weights are given, so label flips at Table 5's thresholds
mean something only with real weights; with random ones the script also counts flips at a stand-in threshold per class
(the median official logit: the densest place a threshold can be).

    python bench/teacher_parity.py [VIDEO] [--clip-model ViT-L-14] [--clip-weights FILE] [--clap-weights FILE]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from common import machine  # bench/common.py: first, it sets up the offline stand-in hub

from valor_nb.prompts import LLP_PROMPTS  # noqa: E402
from valor_nb.teachers import ClapTeacher, ClipTeacher, build_offline_hub  # noqa: E402
from valor_nb.video import audio_segments, decode_video  # noqa: E402


def flips(a, b, theta): return int(((a > theta) != (b > theta)).sum())


def report(name, ours, official, theta):
    proxy = np.median(official, axis=0)
    print(f"  {name:<28} mean |Δ logit| {np.abs(ours - official).mean():.4f}  max {np.abs(ours - official).max():.4f}  "
          f"flips at Table 5 θ {flips(ours, official, theta):3d}/{official.size}  at median θ {flips(ours, official, proxy):3d}/{official.size}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument('video', nargs='?', default=str(Path(os.environ.get('VALOR_LLP_DIR', '.'))/'video'/'BjCEufrlXm4.mp4'))
    p.add_argument('--clip-model', default='ViT-L-14'); p.add_argument('--clip-weights'); p.add_argument('--clap-weights')
    a = p.parse_args()
    print(machine())
    torch.manual_seed(0)
    clip_teacher = ClipTeacher(LLP_PROMPTS, a.clip_model, a.clip_weights)
    if a.clip_weights is None: clip_teacher.scale = 100.0           # the OpenAI weights' logit scale, not a random model's 14.3
    jpeg, raw = decode_video(a.video), decode_video(a.video, jpeg=False)
    print(f"{a.video}: {len(jpeg.frames)} frames at 8 fps; CLIP {a.clip_model} ({a.clip_weights or 'random weights, logit scale 100'})")
    ours_jpeg, ours_raw = clip_teacher(jpeg.segment_frames)[1], clip_teacher(raw.segment_frames)[1]
    if shutil.which('ffmpeg'):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run(['ffmpeg', '-v', 'error', '-i', a.video, '-r', '8', f'{d}/%06d.jpg'], check=True)
            files = sorted(Path(d).glob('*.jpg'))
            official = np.stack([np.asarray(Image.open(files[i]).convert('RGB')) for i in jpeg.frame_indices])
        for name, frames in (('with JPEG round trip', jpeg.segment_frames), ('without', raw.segment_frames)):
            print(f"  {name:<28} mean |Δ pixel| vs the ffmpeg program's JPEGs {np.abs(frames.astype(int) - official).mean():.2f}")
        official_logits = clip_teacher(official)[1]
        report('ours, with JPEG round trip', ours_jpeg, official_logits, LLP_PROMPTS.theta_clip)
        report('ours, without', ours_raw, official_logits, LLP_PROMPTS.theta_clip)
    else: print('  (no ffmpeg program: install Debian ffmpeg to compare with the official JPEG files)')
    report('without vs with JPEG', ours_raw, ours_jpeg, LLP_PROMPTS.theta_clip)

    if a.clap_weights is None: build_offline_hub()
    torch.manual_seed(0)
    clap = ClapTeacher(LLP_PROMPTS, a.clap_weights)
    import av
    with av.open(a.video) as c:                                     # the decoding valor_nb used before: -3 dB downmix
        r = av.AudioResampler(format='flt', layout='mono', rate=48000)
        downmix = np.concatenate([x.to_ndarray().reshape(-1) for f in c.decode(c.streams.audio[0]) for x in r.resample(f)])
    print(f"CLAP ({a.clap_weights or 'random weights'}): librosa's waveform (ours) vs PyAV's -3 dB downmix: "
          f"RMS ratio {np.sqrt((downmix ** 2).mean() / (jpeg.wave ** 2).mean()):.3f}, {(np.abs(downmix) > 1).sum()} samples beyond ±1")
    (e1, z1), (e2, z2) = clap(audio_segments(jpeg.wave)), clap(audio_segments(downmix))
    print(f"  embedding cosine: min {(e1 * e2).sum(1).min():.4f}")
    report('downmix vs librosa', z2, z1, LLP_PROMPTS.theta_clap)


if __name__ == '__main__': main()
