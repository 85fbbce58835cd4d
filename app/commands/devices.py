"""`captionist devices`: the capture devices PortAudio sees."""

from __future__ import annotations

import sys


def run_devices() -> int:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio missing (Debian: libportaudio2)
        print(f"captionist: no audio library: {exc}", file=sys.stderr)
        return 1
    inputs = [d for d in sounddevice.query_devices() if d["max_input_channels"] > 0]
    if not inputs:
        print("no capture devices found", file=sys.stderr)
        return 1
    for device in inputs:
        print(
            f"{device['index']:>3}  {device['name']}  "
            f"({device['max_input_channels']} ch, {device['default_samplerate']:.0f} Hz)"
        )
    return 0
