"Parsing raw videos, offline with random weights: generated clips of 4, 10 and 25 s with and without sound, the real LLP clip."
import json
import re
from dataclasses import asdict, replace

import numpy as np
import pytest
import torch
from matplotlib.image import imread

from valor_nb.data import read_dense_gt
from valor_nb.han import build_han, to_official_state_dict
from valor_nb.metrics import avvp_scores
from valor_nb.extract import RANDOM_EXTRACTORS
from valor_nb.infer import load_model
from valor_nb.models import build_model
from valor_nb.parse import (build_parser, events_to_dense, main, parse, score_parse, timeline_events, whole_seconds, window_starts,
                            write_parse)
from valor_nb.prompts import load_prompts
from valor_nb.report import QUICK_SYNTH
from valor_nb.synth import synth_llp
from valor_nb.teachers import build_offline_hub
from valor_nb.testing import make_clip, register_tiny_clip
from valor_nb.video import decode_video
from valor_nb.train import RECIPES, train_model

TINY = 'valor-tiny-clip-768'
LENGTHS = {'four': (4, True), 'ten': (10, True), 'long': (25, True), 'four_mute': (4, False), 'ten_mute': (10, False)}


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    "Generated mp4s (4, 10, 25 s; with and without sound) and one file that is not a video."
    d = tmp_path_factory.mktemp('videos')
    for name, (seconds, audio) in LENGTHS.items(): make_clip(d/f'{name}.mp4', seconds=seconds, audio=audio, fps=25 if audio else 30)
    (d/'broken.mp4').write_bytes(b'not a video')
    build_offline_hub(); register_tiny_clip(TINY, 768)
    return d


def random_kit():
    "The random model and extractors `valor_parse --random-weights` builds (same seed, same order)."
    return build_parser(clip_model=TINY, **RANDOM_EXTRACTORS)[:2]


@pytest.fixture(scope='module')
def kit(videos): return random_kit()


def mean_colour_3d(clip, starts):
    "A quick stand-in for the R(2+1)D extractor (same shape, from each second's mean colour): for the stitching tests."
    frames = clip.frames[:8 * int(clip.seconds)]                                    # 8n of the 8n (+2) frames
    per_second = frames.reshape(-1, 8 * int(np.prod(frames.shape[1:3])), 3).mean(1) / 255      # (n, 3)
    return np.tile(per_second, (1, 171))[:, :512][np.asarray(starts)[:, None] + np.arange(10)].astype(np.float32)


@pytest.fixture(scope='module')
def quick_kit(kit):
    model, extractors = kit
    return model, {**extractors, 'r2plus1d_18': mean_colour_3d}


@pytest.fixture(scope='module')
def cli_run(videos, tmp_path_factory):
    "valor_parse on the folder: every generated clip parsed, the broken file reported, exit status 1."
    out = tmp_path_factory.mktemp('parsed')
    with pytest.raises(SystemExit) as e:
        main([str(videos), '--out', str(out), '--random-weights', '--clip-model', TINY, '--quiet'])
    assert e.value.code == 1
    return out, json.loads((out/'parse_summary.json').read_text())


def written(out, name):
    doc = json.loads((out/f'{name}.json').read_text())
    n = doc['segments']
    csv = [read_dense_gt(out/f'{name}_{m}.csv', [name], n_segments=n, allow_empty=True)[0] for m in ('audio', 'visual')]
    return doc, np.stack(csv, 1).astype(bool)


@pytest.mark.slow   # the command on every generated clip
def test_cli_parses_every_clip_and_skips_the_broken_one(cli_run):
    out, summary = cli_run
    assert sorted(v['name'] for v in summary['parsed'].values()) == sorted(LENGTHS)
    (bad, why), = summary['failed'].items()
    assert bad.endswith('broken.mp4') and why == 'cannot be decoded (Invalid data found when processing input)'
    assert not list(out.glob('broken*')) and not list(out.rglob('*.tmp'))


@pytest.mark.slow
@pytest.mark.parametrize('name', list(LENGTHS))
def test_lengths_windows_and_audio(cli_run, name):
    out, _ = cli_run
    seconds, audio = LENGTHS[name]
    doc, pred = written(out, name)
    assert doc['segments'] == seconds and pred.shape == (seconds, 2, 25)
    assert doc['has_audio'] == audio and doc['looped'] == (seconds < 10)
    assert doc['windows'] == {4: [[0, 10]], 10: [[0, 10]], 25: [[0, 10], [5, 15], [10, 20], [15, 25]]}[seconds]
    assert doc['model']['random_weights'] and doc['features']['clap'] == 'random'
    if not audio: assert not pred[:, 0].any() and all(e['modality'] == 'visual' for e in doc['events'])
    assert pred[:, 1].any()      # random weights put probabilities near 0.5: some events, in every clip
    assert (events_to_dense(doc['events'], seconds) == pred).all()             # JSON and CSV say the same
    png = imread(out/f'{name}.png')
    assert png.ndim == 3 and png.shape[0] > 200 and png.shape[1] > 500


@pytest.mark.slow   # the command on every generated clip
def test_cli_equals_python_api(cli_run, videos, kit):
    "The command's CSVs are the decisions of `parse` with the same random model and extractors."
    out, _ = cli_run
    model, extractors = kit
    for name in ('four', 'ten_mute'):
        p = parse(videos/f'{name}.mp4', model, extractors)
        assert (written(out, name)[1] == p.pred).all()


def test_stitching_is_the_mean_over_windows(videos, quick_kit):
    model, extractors = quick_kit
    p = parse(videos/'long.mp4', model, extractors)
    grid = whole_seconds(decode_video(videos/'long.mp4'))
    starts = window_starts(25)
    feats = [torch.from_numpy(extractors[k](grid, starts)) for k in model.input_kinds]
    total, count = np.zeros((25, 2, 25)), np.zeros(25)
    for w, s in enumerate(starts):                                             # each window alone, by hand
        with torch.no_grad(): total[s:s + 10] += model(*(x[w:w + 1] for x in feats)).segment_prob[0].numpy()
        count[s:s + 10] += 1
    assert count.tolist() == [1] * 5 + [2] * 15 + [1] * 5
    np.testing.assert_allclose(p.prob, total / count[:, None, None], atol=1e-5)


def test_short_clip_is_looped(videos, quick_kit):
    model, extractors = quick_kit
    p = parse(videos/'four.mp4', model, extractors)
    grid = whole_seconds(decode_video(videos/'four.mp4'))
    looped = replace(grid, frames=grid.frames[np.arange(80) % 32], wave=grid.wave[np.arange(480_000) % 192_000], seconds=10.0)
    x = [torch.from_numpy(extractors[k](looped, [0])) for k in model.input_kinds]
    with torch.no_grad(): prob = model(*x).segment_prob[0].numpy()
    expected = np.stack([prob[[t, t + 4, t + 8] if t < 2 else [t, t + 4]].mean(0) for t in range(4)])
    np.testing.assert_allclose(p.prob, expected, atol=1e-5)


@pytest.mark.slow   # the command on every generated clip
def test_round_trip_through_the_metrics(cli_run, tmp_path):
    "A written 10-s parse scored against annotations in LLP's layout: its own CSVs give 100; the JSON agrees."
    out, _ = cli_run
    doc, pred = written(out, 'ten')
    assert pred.any()
    scores = avvp_scores(pred[None, :, 0], pred[None, :, 1], events_to_dense(doc['events'], 10)[None, :, 0],
                         events_to_dense(doc['events'], 10)[None, :, 1])
    assert set(scores.values()) == {100.0}
    assert set(score_parse(out/'ten', out/'ten_audio.csv', out/'ten_visual.csv').values()) == {100.0}
    # against other annotations: the numbers follow from the metrics on the dense arrays
    gt = tmp_path/'gt.csv'
    gt.write_text('filename\tonset\toffset\tevent_labels\nten_0_10\t2\t6\tDog\nten_0_10\t0\t10\tSpeech\n')
    g = read_dense_gt(gt, ['ten_0_10'])
    assert score_parse(out/'ten', gt, gt, gt_name='ten_0_10') == avvp_scores(pred[None, :, 0], pred[None, :, 1], g, g)


def test_hop(videos, quick_kit):
    model, extractors = quick_kit
    assert parse(videos/'long.mp4', model, extractors, hop=10).starts == [0, 10, 15]
    with pytest.raises(ValueError, match='hop must be 1..10'): parse(videos/'long.mp4', model, extractors, hop=11)


def test_checkpoints_of_ours_and_official(tmp_path, videos, quick_kit):
    "valor_train's best.pt and last.pt and an official-names state_dict load and parse identically."
    _, extractors = quick_kit
    data = synth_llp(replace(QUICK_SYNTH, kinds=('clap', 'clip', 'r2plus1d_18'), n_train=32, n_val=16, n_test=16))
    r = train_model('valor++', data['train'], data['val'], loss='base', recipe=replace(RECIPES['valor++'].shortened(1), batch_size=16),
                    out_dir=tmp_path/'run', quiet=True)
    torch.save(to_official_state_dict(r.model), tmp_path/'checkpoint_best.pt')
    probs = [parse(videos/'ten.mp4', load_model(tmp_path/p), extractors).prob
             for p in ('run/best.pt', 'run/last.pt', 'checkpoint_best.pt')]
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-6); np.testing.assert_allclose(probs[0], probs[2], atol=1e-6)
    out = tmp_path/'cli'
    main([str(videos/'ten.mp4'), '--out', str(out), '--checkpoint', str(tmp_path/'run'/'last.pt'), '--random-weights',
          '--clip-model', TINY, '--quiet'])
    doc, pred = written(out, 'ten')
    assert doc['model'] == {'preset': 'valor++', 'checkpoint': str(tmp_path/'run'/'last.pt'), 'random_weights': False, 'trained': None}
    assert pred.shape == (10, 2, 25)


def test_every_architecture_parses(videos, tmp_path, quick_kit, cli):
    "A method's model on CLIP and CLAP features parses raw video (API and command, named as what it is); on LLP's VGGish features it is refused in one line."
    _, extractors = quick_kit
    for arch in ('mgn', 'cmpae', 'jomold'):
        torch.manual_seed(0)
        model = build_model(arch, audio='clap', visual2d='clip').eval()
        got = parse(videos/'ten.mp4', model, extractors)
        assert got.prob.shape == (10, 2, 25) and np.isfinite(got.prob).all()
    torch.save({'model': model.state_dict(), 'config': {'han': asdict(model.cfg)}}, tmp_path/'jomold_clip.pt')
    main([str(videos/'ten.mp4'), '--out', str(tmp_path/'out'), '--checkpoint', str(tmp_path/'jomold_clip.pt'), '--random-weights',
          '--clip-model', TINY, '--quiet'])
    doc, pred = written(tmp_path/'out', 'ten')
    assert doc['model']['preset'] == 'custom jomold' and pred.shape == (10, 2, 25)
    llp = build_model('jomold')
    torch.save({'model': llp.state_dict(), 'config': {'han': asdict(llp.cfg)}}, tmp_path/'jomold.pt')
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path/'out', '--checkpoint', tmp_path/'jomold.pt', '--random-weights')
    assert code == 1 and err.startswith(f"valor_parse: {tmp_path/'jomold.pt'}: a jomold model, which hears and sees vggish, res152, "
                                        "r2plus1d_18 features") and err.count('\n') == 1


def test_command_line_errors(videos, tmp_path, cli):
    "Usage mistakes exit with status 2, unusable data with 1: one line each, naming the problem."
    assert cli(main, videos/'ten.mp4', '--out', tmp_path) == (2, 'valor_parse: give --checkpoint (or --random-weights for a demo)\n')
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path, '--checkpoint', write_state(tmp_path))   # no silent random CLAP
    assert (code, err) == (2, "valor_parse: the valor++ model hears CLAP features: give --clap-weights (630k-fusion-best.pt or 'download')\n")
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path, '--preset', 'valor', '--random-weights')
    assert code == 1 and err.startswith("valor_parse: preset valor: a valor model, which hears and sees vggish, res152, r2plus1d_18 "
                                        "features; from raw video valor_parse makes clip, clap, r2plus1d_18") and err.count('\n') == 1
    code, err = cli(main, tmp_path/'no_such.mp4', '--out', tmp_path, '--random-weights')
    assert (code, err) == (2, f"valor_parse: {tmp_path/'no_such.mp4'}: no such file or folder\n")
    (tmp_path/'empty.pt').touch()
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path, '--checkpoint', tmp_path/'empty.pt')
    assert (code, err) == (1, f"valor_parse: {tmp_path/'empty.pt'}: an empty file (0 bytes), not a checkpoint\n")
    (tmp_path/'again').mkdir(); make_clip(tmp_path/'again'/'ten.mp4', seconds=2)
    code, err = cli(main, videos/'ten.mp4', tmp_path/'again', '--out', tmp_path, '--random-weights')
    assert (code, err) == (2, "valor_parse: several videos named ['ten']: their outputs would overwrite each other\n")
    assert cli(main, videos/'ten.mp4', '--out', tmp_path, '--random-weights', '--hop', '0')[0] == 2
    with pytest.raises(ValueError, match='the class list has 3'):
        load_model(write_state(tmp_path), n_classes=3)


def test_unwritable_out_and_corrupt_videos_fail_before_any_model_is_built(videos, tmp_path, cli, monkeypatch):
    import valor_nb.parse as vp
    monkeypatch.setattr(vp, 'build_parser', lambda *a, **k: pytest.fail('models built before the checks'))
    (tmp_path/'file').write_text('')
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path/'file'/'out', '--random-weights')
    assert code == 1 and err == f"valor_parse: --out {tmp_path/'file'/'out'}: {tmp_path/'file'} is a file, not a folder; choose a folder\n"
    (tmp_path/'bad.mp4').write_bytes(b'not a video')
    code, err = cli(main, tmp_path/'bad.mp4', '--out', tmp_path/'out', '--random-weights')
    summary = json.loads((tmp_path/'out'/'parse_summary.json').read_text())
    assert code == 1 and list(summary['failed']) == [str(tmp_path/'bad.mp4')] and summary['parsed'] == {}


def write_state(d):
    torch.save(build_han('valor++').state_dict(), d/'best.pt')
    return d/'best.pt'


def test_real_llp_clip(llp_dir, kit, tmp_path):
    "The real clip (Speech, Dog; 10.03 s, 29.9 fps, 44.1 kHz AAC): one window, 10 segments, everything written."
    model, extractors = kit
    p = parse(llp_dir/'video'/'BjCEufrlXm4.mp4', model, extractors)
    assert (p.n, p.starts, p.looped, p.has_audio) == (10, [0], False, True)
    assert p.prob.shape == (10, 2, 25) and np.isfinite(p.prob).all()
    paths = write_parse(p, tmp_path, {'model': 'random'})
    doc, pred = written(tmp_path, 'BjCEufrlXm4')
    assert (pred == p.pred).all() and doc['seconds'] == pytest.approx(10.03, abs=0.01)
    assert paths['png'].stat().st_size > 10_000


def test_own_class_list(videos, quick_kit, tmp_path, cli):
    "A model trained on another class list parses with that list's names; a checkpoint of 25 classes does not fit it."
    _, extractors = quick_kit
    tsv = tmp_path/'kitchen.tsv'
    tsv.write_text('event\tclip_caption\tclap_caption\ttheta_clip\ttheta_clap\n'
                   'Kettle\ta photo of a kettle\tThis is a sound of kettle\t20\t0\n'
                   'Blender\ta photo of a blender\tThis is a sound of blender\t20\t0\n'
                   'Tap\ta photo of a tap\tThis is a sound of tap\t20\t0\n')
    kitchen = load_prompts(tsv)
    torch.manual_seed(0)
    p = parse(videos/'ten.mp4', build_han('valor++', n_classes=3).eval(), extractors, kitchen, threshold=0.0)
    assert p.prob.shape == (10, 2, 3) and {e['event'] for e in timeline_events(p)} == {'Kettle', 'Blender', 'Tap'}
    with pytest.raises(ValueError, match=r'the class list \(.*kitchen.tsv\) has 3'):
        parse(videos/'ten.mp4', build_han('valor++').eval(), extractors, kitchen)
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path, '--checkpoint', write_state(tmp_path), '--classes', tsv,
                    '--random-weights')
    assert code == 1 and re.match(r'valor_parse: .*best.pt: the model predicts 25 classes, the class list has 3\n$', err)


@pytest.mark.slow   # two synthetic trainings through valor_train (about a minute)
def test_train_then_parse(videos, tmp_path, cli):
    "valor_train's best.pt says what it is: valor_parse rebuilds a valor++ from it, and refuses a valor in one line."
    from valor_nb.train import main as train
    assert cli(train, '--synthetic', '--preset', 'valor++', '--epochs', '1', '--out', tmp_path/'pp', '--quiet')[0] == 0
    main([str(videos/'ten.mp4'), '--out', str(tmp_path/'parsed'), '--checkpoint', str(tmp_path/'pp'/'best.pt'),
          '--random-weights', '--clip-model', TINY, '--quiet'])
    doc, _ = written(tmp_path/'parsed', 'ten')
    assert doc['model']['preset'] == 'valor++' and doc['model']['trained']['synthetic'] is True
    assert cli(train, '--synthetic', '--epochs', '1', '--out', tmp_path/'v', '--quiet')[0] == 0
    code, err = cli(main, videos/'ten.mp4', '--out', tmp_path/'parsed', '--checkpoint', tmp_path/'v'/'best.pt', '--random-weights')
    assert code == 1 and err == (f"valor_parse: {tmp_path/'v'/'best.pt'}: a valor model, which hears and sees vggish, res152, "
                                 "r2plus1d_18 features; from raw video valor_parse makes clip, clap, r2plus1d_18, so it parses with "
                                 "a valor++ model (valor_train --preset valor++ ...; or `parse` with your own extractors)\n")
