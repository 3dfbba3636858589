"""Decoding against the official pipeline's own tools: the frames `ffmpeg -r 8` writes (the ffmpeg program, Debian's
`ffmpeg` package) and the waveform `librosa.load(path, sr=48000)` reads, on the real LLP clip and on generated clips of
other frame rates, lengths and channel counts. Skipped, with the reason, where the ffmpeg program is absent."""
import shutil
import subprocess
import warnings
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from valor_nb.testing import frame_number, make_clip
from valor_nb.video import decode_video, load_clip

needs_ffmpeg = pytest.mark.skipif(shutil.which('ffmpeg') is None, reason='the ffmpeg program is not installed (Debian: ffmpeg)')


def ffmpeg_frames(video, folder, ext):
    "The frames of `ffmpeg -i VIDEO -r 8 %06d.EXT`, as RGB arrays."
    folder.mkdir()
    subprocess.run(['ffmpeg', '-v', 'error', '-i', str(video), '-r', '8', str(folder/f'%06d.{ext}')], check=True)
    return [np.asarray(Image.open(f).convert('RGB')) for f in sorted(folder.glob(f'*.{ext}'))]


@needs_ffmpeg
@pytest.mark.parametrize('fps,seconds,audio', [(25, 10, True), (30, 10, True), (Fraction(30000, 1001), 10, True),
                                               (Fraction(359, 12), 10.03, True), (5, 10, True), (8, 10, True),
                                               (12, 10, True), (24, 7.3, True), (60, 4, True), (25, 10, False), (15, 61, True)])
def test_frames_are_those_ffmpeg_writes(tmp_path, fps, seconds, audio):
    "The same number of frames, each showing the same source frame as the ffmpeg program's output."
    video = make_clip(tmp_path/'clip.mp4', seconds, fps, audio=audio, size=32)
    ours = decode_video(video, jpeg=False).frames
    theirs = ffmpeg_frames(video, tmp_path/'png', 'png')
    assert [frame_number(f) for f in ours] == [frame_number(f) for f in theirs]


@needs_ffmpeg
def test_real_clip_frames_and_jpeg(llp_dir, tmp_path):
    "The real clip: 82 frames as ffmpeg writes; our JPEG round trip is 3x closer to ffmpeg's JPEG files than raw frames."
    video = llp_dir/'video'/'BjCEufrlXm4.mp4'
    if not video.is_file(): pytest.skip(f'{video} not present')
    official = np.stack(ffmpeg_frames(video, tmp_path/'jpg', 'jpg')).astype(int)
    raw, jpeg = decode_video(video, jpeg=False).frames.astype(int), decode_video(video).frames.astype(int)
    assert len(official) == len(raw) == len(jpeg) == 82
    lossless = np.stack(ffmpeg_frames(video, tmp_path/'png', 'png')).astype(int)
    assert np.abs(lossless - raw).mean() < 1.0                        # the same source frames (colour conversion apart)
    to_raw, to_jpeg = np.abs(official - raw).mean(), np.abs(official - jpeg).mean()
    assert to_jpeg < 0.6 and to_raw > 1.2 and to_jpeg < to_raw / 2, (to_raw, to_jpeg)


def librosa_load(path):
    import librosa
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')                                # librosa's audioread deprecation warnings
        return librosa.load(str(path), sr=48000)[0]


@needs_ffmpeg
@pytest.mark.parametrize('rate,channels', [(44100, 2), (48000, 1), (22050, 2), (32000, 1)])
def test_audio_is_what_librosa_load_reads(tmp_path, rate, channels):
    video = make_clip(tmp_path/'clip.mp4', 10, 25, size=32, rate=rate, channels=channels)
    ours, theirs = load_clip(video).wave, librosa_load(video)
    assert len(ours) == len(theirs) and np.abs(ours - theirs).max() < 1e-4


@needs_ffmpeg
def test_real_clip_audio(llp_dir):
    "44.1 kHz stereo AAC: librosa's waveform (channel mean), not a -3 dB downmix 1.414x louder."
    video = llp_dir/'video'/'BjCEufrlXm4.mp4'
    if not video.is_file(): pytest.skip(f'{video} not present')
    ours, theirs = load_clip(video).wave, librosa_load(video)
    assert len(ours) == len(theirs) == 480_375
    assert np.abs(ours - theirs).max() < 1e-4
