"bench/device_check --smoke: the one command a GPU's rare minutes go to must not rot between GPUs."
import json, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STAGES = ('teachers', 'end_to_end', 'data', 'train', 'table3')


def run(*args, cwd=None):
    "bench/device_check run as a program (its shebang and executable bit included), with this interpreter first on PATH."
    env = {**os.environ, 'PATH': f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", 'HF_HUB_OFFLINE': '1'}
    return subprocess.run([str(ROOT/'bench'/'device_check'), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_plan_fits_8_minutes():
    p = run('--plan', '--device', 'cpu')
    assert p.returncode == 0, p.stderr[-3000:]
    budgets = [int(line.split()[2]) for line in p.stdout.splitlines() if ' budget ' in line]
    assert len(budgets) == 5 and sum(budgets) <= 480 - 20   # start-up and the table at the end: under 20 s
    assert 'plan: ' in p.stdout and 'table3' in p.stdout


@pytest.mark.slow   # a 1-layer CLIP, the full-size CLAP and narrow HANs on 160 videos: about a minute on 2 cores
def test_smoke(tmp_path):
    out = tmp_path/'x.json'
    p = run('--smoke', '--device', 'cpu', '--out', str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r['smoke'] and {'name', 'torch', 'cuda'} <= set(r['device'])
    assert [s['stage'] for s in r['plan']] == list(STAGES) and sum(s['budget_s'] for s in r['plan']) <= 120
    assert set(r['stages']) == set(STAGES)
    for name, s in r['stages'].items():
        assert 'error' not in s and 'seconds' in s and 'settings' in s, name
    st = r['stages']
    # every stage measured something, or said what it stopped before: the budget is the only reason to skip
    fp32 = {f['teacher'] for f in st['teachers']['figures'] if f['precision'] == 'fp32'}
    assert fp32 == {'CLIP', 'CLAP'} and st['teachers']['default'] in ('fp32', 'bf16')
    assert st['teachers']['flips'] or any('bf16' in x for x in st['teachers']['stopped'])
    for f in st['teachers']['flips'].values(): assert {'table5', 'median', 'of'} <= set(f) and f['of'] > 0
    assert st['end_to_end']['clips_per_s'] > 0 and st['end_to_end']['settings']['workers'] >= 1
    assert st['train']['epoch']['fp32']['videos_per_s'] > 0
    members = st['train'].get('members')
    assert members or any('alone' in x or 'together' in x for x in st['train']['stopped'])
    if members: assert members['equal'], members['check']   # members trained together equal separate runs
    assert st['table3']['rows'] and st['table3']['total_s'] >= st['table3']['measured_s'] > 0
    assert st['table3']['complete'] == (len(st['table3']['rows']) == 8)
    assert [t['met'] for t in r['targets']] and len(r['targets']) == 5
    assert set(r['defaults']) >= {'teacher_precision', 'decode_workers', 'members_together'}
    assert {'clip_fps', 'clap_sps', 'e2e_cps', 'synth_vps', 'train_vps'} <= set(r['rates'])
    for line in ('plan:', 'teachers    CLIP fp32, batch 1', 'end_to_end  both teachers', 'table3      A base, V base', 'targets (one H200',
                 'proposed defaults on cpu'):
        assert line in p.stdout, line
