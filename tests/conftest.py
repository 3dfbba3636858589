"Shared fixtures: the real LLP annotation folder, when the environment points at one."
import os
from pathlib import Path
import pytest


@pytest.fixture(scope='session')
def llp_dir():
    "The folder named by VALOR_LLP_DIR (real LLP annotation files); skip the test when it is not set or absent."
    d = os.environ.get('VALOR_LLP_DIR')
    if not d: pytest.skip('VALOR_LLP_DIR is not set: no real LLP annotation files to test against')
    if not (Path(d)/'AVVP_test_pd.csv').is_file():
        pytest.skip(f'VALOR_LLP_DIR={d} holds no AVVP_test_pd.csv: no real LLP annotation files to test against')
    return Path(d)
