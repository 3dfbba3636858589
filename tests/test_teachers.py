"Teachers and harvesting, offline with random weights: decoding, the CLI (resume, shards, bad clips), the real clip."
import json
import shutil

import numpy as np
import pytest

from valor_nb.prompts import LLP_CLASSES
from valor_nb.harvesting import OUTPUTS, main
from valor_nb.teachers import build_offline_hub
from valor_nb.testing import frame_number, make_clip, register_tiny_clip
from valor_nb.video import audio_segments, load_clip


@pytest.fixture(scope='module')
def clips(tmp_path_factory):
    "Three good clips (one named by its full LLP name, two by id), one 4-s clip and one without sound."
    d = tmp_path_factory.mktemp('videos')
    make_clip(d/'aaaaaaaaaaa_0_10.mp4'); make_clip(d/'bbbbbbbbbbb.mp4', fps=30); make_clip(d/'ccccccccccc.mp4', size=48)
    make_clip(d/'ddddddddddd.mp4', seconds=4); make_clip(d/'eeeeeeeeeee.mp4', audio=False)
    csv = d/'split.csv'
    csv.write_text('filename\tevent_labels\naaaaaaaaaaa_0_10\tSpeech,Dog\nbbbbbbbbbbb_5_15\tCar\nccccccccccc_1_11\tCello,Banjo\n'
                   'ddddddddddd_0_10\tDog\neeeeeeeeeee_0_10\tCat\nfffffffffff_0_10\tCat\n')
    build_offline_hub()
    return d, csv


def harvest(d, csv, out, *extra):
    "Run valor_harvest; its exit status is 1 exactly when some video of the shard failed."
    try: main([str(d), '--split-csv', str(csv), '--out', str(out), '--random-weights', '--clip-model', register_tiny_clip(),
               '--batch-size', '2', '--quiet', *extra]); code = 0
    except SystemExit as e: code = e.code
    shard = extra[1] if extra and extra[0] == '--shard' and not extra[1].endswith('/1') else None   # one process: harvest_summary.json
    summary = json.loads((out/f"harvest_summary{'_' + shard.replace('/', 'of') if shard else ''}.json").read_text())
    assert code == (1 if summary['failed'] else 0)
    return summary


def test_30fps_clip_frames_and_segments(clips):
    c = load_clip(clips[0]/'bbbbbbbbbbb.mp4')
    assert len(c.frames) == 82 and c.frame_indices.tolist() == [0, 9, 18, 27, 36, 45, 54, 63, 72, 81]   # ffmpeg -r 8's 82
    shown = [frame_number(f) for f in c.segment_frames]                   # (tests/test_video.py: the same as ffmpeg's)
    assert shown == [0, 29, 63, 97, 130, 164, 198, 232, 265, 299]
    assert audio_segments(c.wave).shape == (10, len(c.wave) // 10)


def test_cli_harvests_resumes_and_reports_bad_clips(clips, tmp_path, capsys):
    d, csv = clips
    s = harvest(d, csv, tmp_path/'all')
    assert s['harvested'] == 3 and s['already_done'] == 0
    assert set(s['failed']) == {'ddddddddddd_0_10', 'eeeeeeeeeee_0_10', 'fffffffffff_0_10'}
    assert '4.00 s long' in s['failed']['ddddddddddd_0_10'] and 'no audio track' in s['failed']['eeeeeeeeeee_0_10']
    assert 'no video file' in s['failed']['fffffffffff_0_10']
    for o in OUTPUTS: assert sorted(p.name for p in (tmp_path/'all'/o).iterdir()) == ['aaaaaaaaaaa.npy', 'bbbbbbbbbbb.npy', 'ccccccccccc.npy']
    ya = np.load(tmp_path/'all'/'labels_a'/'bbbbbbbbbbb.npy'); za = np.load(tmp_path/'all'/'teacher_a'/'bbbbbbbbbbb.npy')
    car = LLP_CLASSES.index('Car')
    assert ya[:, [c for c in range(25) if c != car]].sum() == 0 and (ya[:, car] == (za[:, car] > 0)).all()   # weak AND logit > theta
    assert np.load(tmp_path/'all'/'clap'/'aaaaaaaaaaa.npy').shape == (64, 768)
    mtime = (tmp_path/'all'/'clip'/'aaaaaaaaaaa.npy').stat().st_mtime_ns
    again = harvest(d, csv, tmp_path/'all')
    assert again['harvested'] == 0 and again['already_done'] == 3
    assert (tmp_path/'all'/'clip'/'aaaaaaaaaaa.npy').stat().st_mtime_ns == mtime
    assert not list((tmp_path/'all').rglob('*.tmp'))


def test_shards_add_up_to_a_single_run(clips, tmp_path):
    d, csv = clips
    harvest(d, csv, tmp_path/'single')
    shards = [harvest(d, csv, tmp_path/'sharded', '--shard', f'{i}/2') for i in range(2)]
    assert sum(s['harvested'] for s in shards) == 3
    for o in OUTPUTS:
        files = sorted(p.name for p in (tmp_path/'single'/o).iterdir())
        assert sorted(p.name for p in (tmp_path/'sharded'/o).iterdir()) == files
        for f in files:   # other batch partners change float rounding only (BLAS blocking), not the labels
            x, y = np.load(tmp_path/'single'/o/f), np.load(tmp_path/'sharded'/o/f)
            assert (np.array_equal(x, y) if o.startswith('labels') else np.allclose(x, y, rtol=1e-4, atol=1e-5)), (o, f)


def test_real_llp_clip(llp_dir, tmp_path):
    "The real LLP clip BjCEufrlXm4 (weak labels Speech, Dog): decodes to 10 segments, nothing outside its weak label."
    video = llp_dir/'video'/'BjCEufrlXm4.mp4'
    if not video.is_file(): pytest.skip(f'{video} not present')
    c = load_clip(video)
    assert len(c.frames) == 82 and len(c.wave) == 480_375       # as ffmpeg -r 8 and librosa.load (tests/test_video.py)
    (tmp_path/'v').mkdir(); shutil.copy(video, tmp_path/'v'/video.name)
    (tmp_path/'split.csv').write_text('filename\tevent_labels\nBjCEufrlXm4_20_30\tSpeech,Dog\n')
    build_offline_hub()
    main([str(tmp_path/'v'), '--split-csv', str(tmp_path/'split.csv'), '--out', str(tmp_path/'out'), '--random-weights',
          '--clip-model', register_tiny_clip(), '--quiet'])
    allowed = [LLP_CLASSES.index('Speech'), LLP_CLASSES.index('Dog')]
    for m in ('a', 'v'):
        y = np.load(tmp_path/'out'/f'labels_{m}'/'BjCEufrlXm4.npy')
        assert y.shape == (10, 25) and np.delete(y, allowed, axis=1).sum() == 0


def test_open_vocabulary_class_list(clips, tmp_path):
    "A user's own three-class TSV (no CLIP thresholds yet: NaN) runs through the same harvest."
    d, _ = clips
    (tmp_path/'kitchen.tsv').write_text('event\tclip_caption\tclap_caption\ttheta_clip\ttheta_clap\n'
                                        'Kettle\tA photo of a kettle.\tThis is a sound of kettle\t\t0\n'
                                        'Dog\tA photo of a dog.\tThis is a sound of dog\t14\t4\nTap\tA photo of a tap.\tThis is a sound of water\t15\t-100\n')
    (tmp_path/'split.csv').write_text('filename\tevent_labels\naaaaaaaaaaa_0_10\tKettle,Tap\n')
    main([str(d), '--split-csv', str(tmp_path/'split.csv'), '--out', str(tmp_path/'out'), '--random-weights', '--classes',
          str(tmp_path/'kitchen.tsv'), '--clip-model', register_tiny_clip(), '--quiet'])
    ya, yv = (np.load(tmp_path/'out'/f'labels_{m}'/'aaaaaaaaaaa.npy') for m in 'av')
    assert ya.shape == yv.shape == (10, 3) and np.load(tmp_path/'out'/'teacher_v'/'aaaaaaaaaaa.npy').shape == (10, 3)
    assert ya[:, 2].all() and not ya[:, 1].any()     # Tap: threshold -100 and in the weak label; Dog: not in the weak label
    assert not yv[:, 0].any()                         # no CLIP threshold for Kettle yet (NaN): nothing harvested


def test_mostly_absent_videos_are_counted_not_listed(clips, tmp_path, capsys):
    "A split CSV of 40 videos, one of them on disk: a count and five lines printed, all 39 in the summary file."
    d, _ = clips
    names = ['aaaaaaaaaaa_0_10'] + [f'x{i:010d}_0_10' for i in range(39)]
    (tmp_path/'split.csv').write_text('filename\tevent_labels\n' + ''.join(f'{n}\tDog\n' for n in names))
    s = harvest(d, tmp_path/'split.csv', tmp_path/'out')
    printed = capsys.readouterr().out
    assert s['harvested'] == 1 and len(s['failed']) == 39
    assert '1 harvested, 0 already done, 39 failed' in printed and '... and 34 more: all 39 in' in printed
    assert len(printed.strip().splitlines()) == 7


def test_command_errors_are_one_line(clips, tmp_path, cli):
    d, csv = clips
    base = (d, '--split-csv', csv, '--out', tmp_path/'out', '--random-weights', '--clip-model', register_tiny_clip())
    assert cli(main, *base, '--shard', '2/2') == (2, 'valor_harvest: --shard 2/2: need 0 <= i < n\n')
    assert cli(main, d, '--split-csv', csv, '--out', tmp_path/'out')[0] == 2          # no CLAP weights, no --random-weights
    code, err = cli(main, tmp_path/'nowhere', *base[1:])
    assert (code, err) == (1, f"valor_harvest: {tmp_path/'nowhere'}: video folder not found\n")
    (tmp_path/'bad.csv').write_text('filename\tevent_labels\n../../../etc_0_10\tDog\n')
    code, err = cli(main, d, '--split-csv', tmp_path/'bad.csv', *base[3:])
    assert code == 1 and "line 2, video ../../../etc_0_10: '../../../etc_0_10' is not an LLP video name" in err
    code, err = cli(main, *base[:-3], '--clap-weights', tmp_path/'missing.pt')
    assert (code, err) == (1, f"valor_harvest: {tmp_path/'missing.pt'}: CLAP weights file not found; give a local 630k-fusion-best.pt "
                              "(--clap-weights PATH; `valor_fetch DEST --only clap-weights` gets it), or --random-weights for a demo\n")


@pytest.mark.slow
def test_random_weights_need_no_set_up(clips, tmp_path):
    "valor_harvest --random-weights in a fresh process with no Hugging Face variables: a stand-in hub of valor_nb's own."
    import os, subprocess, sys
    d, csv = clips
    env = {k: v for k, v in os.environ.items() if not k.startswith('HF_')} | {'HOME': str(tmp_path/'home')}
    code = (f"from valor_nb.harvesting import main; main([{str(d)!r}, '--split-csv', {str(csv)!r}, '--out', {str(tmp_path/'out')!r}, "
            f"'--random-weights', '--clip-model', 'ViT-B-32', '--quiet'])")
    r = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True)
    assert r.returncode == 1 and '3 harvested' in r.stdout, r.stderr[-2000:]          # 1: the split's bad clips
    assert (tmp_path/'home'/'.cache'/'valor_nb'/'offline_hub'/'.valor_nb_offline_hub').is_file()
    assert not (tmp_path/'home'/'.cache'/'huggingface').exists()


def test_decoding_workers_change_nothing_and_fp16_needs_a_gpu(clips, tmp_path, cli):
    d, csv = clips
    harvest(d, csv, tmp_path/'single')
    s = harvest(d, csv, tmp_path/'workers', '--shard', '0/1', '--workers', '2')
    assert s['harvested'] == 3 and len(s['failed']) == 3            # the same clips decoded, the same ones reported
    for o in OUTPUTS:
        for f in sorted(p.name for p in (tmp_path/'single'/o).iterdir()):
            assert np.array_equal(np.load(tmp_path/'single'/o/f), np.load(tmp_path/'workers'/o/f)), (o, f)
    code, err = cli(main, d, '--split-csv', csv, '--out', tmp_path/'x', '--random-weights', '--precision', 'fp16')
    assert code == 2 and 'fp16 needs --device cuda' in err
