"The README is a front door: short, its links and figure present, and every number it quotes read from a committed file."
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT/'README.md').read_text()


def test_short():
    assert len(README.splitlines()) <= 120


def test_links_and_images_exist():
    targets = re.findall(r"\]\(([^)#\s]+)\)", README)
    local = [t for t in targets if not re.match(r'[a-z]+:', t)]
    assert local, 'no local link found'
    assert [t for t in local if not (ROOT/t).exists()] == []


def test_ledger_headline_is_the_committed_ledgers():
    "The quoted headline is a line of the committed ledger, word for word."
    quoted = re.findall(r"^> (.+)$", README, re.M)
    assert len(quoted) == 1
    assert quoted[0] in (ROOT/'figures'/'claims_synthetic.md').read_text().splitlines()


def test_demo_time_is_the_committed_benchmarks():
    "The demo's wall time in the README is the one `bench/demo.py` measured and its committed output holds."
    seconds = re.search(r"valor_train --synthetic --out DIR: (\d+) s wall time", (ROOT/'bench'/'demo.txt').read_text()).group(1)
    quoted = re.findall(r"(\d+) s on ", README)
    assert quoted == [seconds]


def test_install_size_is_the_committed_benchmarks():
    "The environment's size and its CUDA share in the README are the ones `bench/install.py` measured."
    m = re.search(r"environment: ([\d.]+) GB, of which NVIDIA's CUDA libraries and Triton ([\d.]+) GB", (ROOT/'bench'/'install.txt').read_text())
    assert re.search(rf"environment of {re.escape(m.group(1))} GB, {re.escape(m.group(2))} GB of it NVIDIA's CUDA", ' '.join(README.split()))
