"Shared fixtures: the real LLP annotation folder, when the environment points at one; an offline Hugging Face hub."
import os
import tempfile
from pathlib import Path
import pytest

# The teacher tests run laion_clap with random weights: a stand-in hub of their own, set before transformers is imported
# (without HF_HUB_OFFLINE the laion_clap import retries the hub for minutes).
os.environ['HF_HUB_OFFLINE'] = '1'
os.environ['HF_HUB_CACHE'] = os.path.join(tempfile.gettempdir(), 'valor_nb_offline_hub')


@pytest.fixture(scope='session')
def llp_dir():
    "The folder named by VALOR_LLP_DIR (real LLP annotation files); skip the test when it is not set or absent."
    d = os.environ.get('VALOR_LLP_DIR')
    if not d: pytest.skip('VALOR_LLP_DIR is not set: no real LLP annotation files to test against')
    if not (Path(d)/'AVVP_test_pd.csv').is_file():
        pytest.skip(f'VALOR_LLP_DIR={d} holds no AVVP_test_pd.csv: no real LLP annotation files to test against')
    return Path(d)


@pytest.fixture
def cli(capsys):
    "Run a command's `main` in-process: its exit status and what it wrote to standard error."
    def run(main, *argv):
        capsys.readouterr()
        try: main([str(a) for a in argv]); code = 0
        except SystemExit as e: code = e.code
        return code, capsys.readouterr().err
    return run
