"""Milliseconds of CPU per 1.6 s partial window: the app's numpy GE2E net against ONNX Runtime.

    python bench/speaker_encoder_speed.py [--seconds 1.0]

ONNX Runtime runs the graph the app shipped before the numpy net, rebuilt from resemblyzer's
weights in a temporary folder (tests/ge2e_onnx.py; needs `make speaker-model`'s resemblyzer and
onnx), on one thread as the app ran it. numpy runs on one BLAS thread, as the app sets it. Each
engine embeds batches of random power-mel windows for about `--seconds`; the figure is CPU time
(process time) per window, the best of three rounds, so other load on the machine counts little.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# One BLAS thread, as app/__init__.py sets it, before numpy loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import numpy as np  # noqa: E402

from app.server.speakers.encoder import SpeakerEncoder  # noqa: E402
from app.server.speakers.features import RATE as WINDOWS_PER_SECOND  # noqa: E402
from app.server.speakers.features import FloatArray  # noqa: E402

Embedder = Callable[[FloatArray], object]
BATCHES = (1, 2, 4, 12)  # 12: one 10 s utterance


def onnx_embedder(folder: Path) -> Embedder:
    import onnxruntime

    from tests.ge2e_onnx import build_model
    from tests.ge2e_reference import converter

    convert = converter()
    path = folder / "ge2e_speaker_encoder.onnx"
    path.write_bytes(
        build_model(convert.load_weights(convert.verified_checkpoint())).SerializeToString()
    )
    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"], sess_options=options
    )
    return lambda mels: session.run(None, {"mels": mels})


def cpu_ms_per_window(embed: Embedder, batch: int, seconds: float, rounds: int = 3) -> float:
    """The best of `rounds` rounds: the machine's other load only ever adds time."""
    mels = np.random.default_rng(0).gamma(0.5, 2.0, (batch, 160, 40)).astype(np.float32)
    embed(mels)  # warm-up
    best = float("inf")
    for _ in range(rounds):
        runs = 0
        start = time.process_time()
        while (elapsed := time.process_time() - start) < seconds / rounds:
            embed(mels)
            runs += 1
        best = min(best, 1000.0 * elapsed / (runs * batch))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per engine and batch size")
    args = parser.parse_args()
    engines: dict[str, Embedder] = {"numpy": SpeakerEncoder.shared().embed_mels}
    with tempfile.TemporaryDirectory() as folder:
        engines["onnxruntime"] = onnx_embedder(Path(folder))
        print("engine       batch  CPU ms/window  CPU-s per audio s")
        for name, embed in engines.items():
            for batch in BATCHES:
                ms = cpu_ms_per_window(embed, batch, args.seconds)
                per_audio_second = ms * WINDOWS_PER_SECOND / 1000.0
                print(f"{name:<12} {batch:>5}  {ms:>13.2f}  {per_audio_second:>17.4f}")


if __name__ == "__main__":
    main()
