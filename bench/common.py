"""What the benchmarks share: an offline stand-in Hugging Face hub for laion_clap, and a timer. Import it first."""
import os, tempfile, time

os.environ['HF_HUB_OFFLINE'] = '1'   # before transformers is imported: laion_clap reads the (stand-in) hub
os.environ.setdefault('HF_HUB_CACHE', os.path.join(tempfile.gettempdir(), 'valor_nb_offline_hub'))

import torch


def timed(fn, repeats=3):
    "Mean seconds of `repeats` calls of `fn` after one warm-up call (GPU work synchronised), and the last call's result."
    out = fn()
    if torch.cuda.is_available(): torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(repeats): out = fn()
    if torch.cuda.is_available(): torch.cuda.synchronize()
    return (time.perf_counter() - t0) / repeats, out


def machine() -> str:
    "The machine a figure was measured on: CPU cores and torch threads, or the GPU, and its load when the run began."
    import platform
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return (f"machine: {gpu or platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads); load average {os.getloadavg()[0]:.1f} at the start")
