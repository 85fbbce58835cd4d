"""CPU cost of the Silero VAD: the app's numpy network against ONNX Runtime on the source graph.

    python bench/vad_speed.py [--rounds 5] [--audio resources/samples/jfk.flac]

Streams the audio through StreamingVad in 32 ms calls (one window each, as a live capture
feeds it) and in 1 s calls (a file, or a capture catching up), once per round with each
network, the two interleaved so a busy machine slows both alike. Prints CPU ms per audio second
(process time: all threads), the best round of each. ONNX Runtime runs faster-whisper's
silero_vad_v6.onnx on one thread, as the app ran it before; it is a reference only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Before numpy loads: one BLAS thread, as the app runs it (app/__init__.py).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import soundfile  # noqa: E402

from app.resources import SAMPLE, resources_dir  # noqa: E402
from app.server.asr.silero_net import SileroNet  # noqa: E402
from app.server.asr.vad import SAMPLE_RATE, WINDOW, FloatArray, StreamingVad, VadNetwork  # noqa: E402
from app.server.asr.whisper_parts import assets_dir  # noqa: E402

CALLS = {"32 ms calls": WINDOW, "1 s calls": SAMPLE_RATE}


class OnnxRuntimeSilero:
    """faster-whisper's silero_vad_v6.onnx in ONNX Runtime, with the app's former options."""

    def __init__(self) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            str(assets_dir() / "silero_vad_v6.onnx"),
            providers=["CPUExecutionProvider"],
            sess_options=options,
        )

    def run(
        self, rows: FloatArray, h: FloatArray, c: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        probabilities, h_out, c_out = self._session.run(None, {"input": rows, "h": h, "c": c})
        return np.asarray(probabilities).reshape(-1), np.asarray(h_out), np.asarray(c_out)


def stream(net: VadNetwork, audio: FloatArray, call: int) -> tuple[float, FloatArray]:
    """CPU seconds to stream `audio` in calls of `call` samples, and the probabilities."""
    vad = StreamingVad(net)
    started = time.process_time()
    parts = [vad.process(audio[i : i + call]) for i in range(0, len(audio), call)]
    return time.process_time() - started, np.concatenate(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--audio", type=Path, default=resources_dir() / SAMPLE)
    args = parser.parse_args()
    audio, rate = soundfile.read(args.audio, dtype="float32", always_2d=True)
    if rate != SAMPLE_RATE:
        parser.error(f"{args.audio}: {rate} Hz; the VAD reads {SAMPLE_RATE} Hz")
    audio = np.ascontiguousarray(audio[:, 0])
    seconds = len(audio) / SAMPLE_RATE
    networks: dict[str, VadNetwork] = {
        "numpy": SileroNet.load(),
        "onnxruntime": OnnxRuntimeSilero(),
    }
    print(f"{args.audio.name}: {seconds:.1f} s, best of {args.rounds} rounds")
    for label, call in CALLS.items():
        best = dict.fromkeys(networks, float("inf"))
        outputs: dict[str, FloatArray] = {}
        for round_number in range(args.rounds + 1):
            for name, net in networks.items():
                cpu, outputs[name] = stream(net, audio, call)
                if round_number > 0:  # round 0 warms up
                    best[name] = min(best[name], cpu)
        difference = float(np.abs(outputs["numpy"] - outputs["onnxruntime"]).max())
        figures = ", ".join(f"{name} {1000 * best[name] / seconds:.2f}" for name in networks)
        ratio = best["numpy"] / best["onnxruntime"]
        print(
            f"{label}: CPU ms per audio second: {figures} (numpy/onnxruntime {ratio:.2f}); "
            f"largest probability difference {difference:.1e}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
