"""`captionist devices`: the capture devices PortAudio sees, and on Windows and macOS the
OS's own system-audio capture."""

from __future__ import annotations

import sys

from app.audio.devices import NATIVE_SYSTEM_AUDIO, native_library_installed, native_system_audio


def run_devices() -> int:
    try:
        import sounddevice
    except OSError as exc:  # PortAudio missing (Debian: libportaudio2)
        print(f"captionist: no audio library: {exc}", file=sys.stderr)
        return 1
    native = native_system_audio()
    if native is not None:  # Windows and macOS 13+ only: Linux prints what it always did
        missing = "" if native_library_installed(native) else " [its library is not installed]"
        print(f"  -  {native.label}: {NATIVE_SYSTEM_AUDIO[native.backend]}{missing}")
    inputs = [d for d in sounddevice.query_devices() if d["max_input_channels"] > 0]
    if not inputs and native is None:
        print("no capture devices found", file=sys.stderr)
        return 1
    for device in inputs:
        print(
            f"{device['index']:>3}  {device['name']}  "
            f"({device['max_input_channels']} ch, {device['default_samplerate']:.0f} Hz)"
        )
    return 0
