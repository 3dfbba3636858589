"valor_reproduce: runs the chosen report notebooks with one parameters file, prints the summary, names a failure."
import re
from pathlib import Path

import pytest

from valor_nb.reproduce import main

NBS = str(Path(__file__).resolve().parents[1]/'nbs')


@pytest.mark.slow
def test_reproduce_runs_reports_and_prints_the_summary(tmp_path, capsys):
    (tmp_path/'params.yaml').write_text('quick: true\n')
    main(['--params', str(tmp_path/'params.yaml'), '--only', 'fidelity', 'thresholds', '--out', str(tmp_path/'figs'),
          '--nbs', NBS, '--runs', str(tmp_path/'runs')])
    out = capsys.readouterr().out
    assert 'table7' in out and 'VALOR-generated segment labels' in out and '84.92' in out
    assert sorted(p.name for p in (tmp_path/'runs').iterdir()) == ['fidelity.ipynb', 'thresholds.ipynb']
    assert (tmp_path/'figs'/'table5_synthetic.csv').is_file()


def test_reproduce_stops_at_a_failing_notebook_and_names_it(tmp_path, cli):
    (tmp_path/'params.yaml').write_text(f'llp_dir: {tmp_path/"no_such_llp"}\n')
    code, err = cli(main, '--params', tmp_path/'params.yaml', '--only', 'fidelity', 'thresholds', '--out', tmp_path/'figs',
                    '--nbs', NBS, '--runs', tmp_path/'runs')
    assert code == 1 and re.match(r'valor_reproduce: fidelity.ipynb failed in cell .*FileNotFoundError.*AVVP_train.csv', err)
    assert not (tmp_path/'runs'/'thresholds.ipynb').exists()


def test_bad_parameters_file(tmp_path, cli):
    (tmp_path/'p.yaml').write_text('llp_dir: [unclosed\n')
    code, err = cli(main, '--params', tmp_path/'p.yaml', '--only', 'fidelity', '--nbs', NBS)
    assert code == 1 and err.startswith(f"valor_reproduce: {tmp_path/'p.yaml'}: not YAML or JSON")
    assert cli(main, '--params', tmp_path/'none.yaml')[1] == f"valor_reproduce: {tmp_path/'none.yaml'}: parameters file not found\n"
    assert cli(main, '--only', 'tables')[0] == 2


def test_every_parameter_is_seen_and_strangers_are_refused(tmp_path, cli):
    "papermill only sees `name = value` lines; valor_reproduce passes only what it sees, so every parameter must be one."
    import ast, json
    from valor_nb.reproduce import REPORTS, declared_parameters
    declared = declared_parameters(NBS)
    for name in REPORTS:
        cells = json.loads((Path(NBS)/f'{name}.ipynb').read_text())['cells']
        src = next(''.join(c['source']) for c in cells if 'parameters' in c['metadata'].get('tags', []))
        assigned = [t.id for node in ast.parse(src).body for t in node.targets]
        assert all(name in declared[k] for k in assigned), (name, assigned)
    assert {'vggish', 'labels_a', 'seeds', 'checkpoint_dir', 'ave_dir'} <= set(declared)
    (tmp_path/'p.yaml').write_text('epoch: 5\n')             # a typo of epochs: refused, not silently ignored
    code, err = cli(main, '--params', tmp_path/'p.yaml', '--only', 'fidelity', '--nbs', NBS, '--out', tmp_path/'f')
    assert code == 1 and "unknown parameter(s) ['epoch']" in err
