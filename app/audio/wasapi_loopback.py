"""System audio on Windows: WASAPI loopback of the default output, through PyAudioWPatch.

PortAudio as sounddevice ships it lists no loopback devices, so without this the app hears
nothing on Windows unless "Stereo Mix" is enabled. PyAudioWPatch (a PyAudio fork with a
patched PortAudio) adds every output's loopback as an input device ("Speakers (...)
[Loopback]"). It is imported only here, only when a Windows system-audio capture opens.

Following the default output (headphones plugged in): PortAudio's device list is fixed until
PortAudio is terminated and initialised again, which cannot happen while a stream is open. So
the watcher asks Windows directly, through the MME layer (winmm), which device is the default
playback one now; when the answer changes, or the stream stops (its device was unplugged),
the capture closes, PortAudio starts afresh and opens the new default's loopback. The
moment in between is a gap in the audio (a Dropout). WASAPI loopback delivers nothing while
nothing plays: NativeCaptureSource puts silence in for that time.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.audio.devices import CaptureDevice
from app.audio.native_source import NativeCaptureSource
from app.audio.pcm_blocks import BlockConverter, PcmFormat
from app.errors import AudioDeviceError

log = logging.getLogger(__name__)
PACKAGE = "pyaudiowpatch"
SYSTEM_AUDIO = "System audio"
LOOPBACK_SUFFIX = " [Loopback]"  # how PyAudioWPatch names an output's loopback twin
WAVE_MAPPER = 0xFFFFFFFF  # (UINT)-1 as the handle of the default MME device
DRVM_MAPPER_PREFERRED_GET = 0x2015
MAXPNAMELEN = 32


@dataclass(frozen=True)
class LoopbackDevice:
    index: int
    name: str
    sample_rate: int
    channels: int


def import_pyaudiowpatch() -> Any:
    try:
        return importlib.import_module(PACKAGE)
    except ImportError as exc:
        raise AudioDeviceError(
            SYSTEM_AUDIO,
            f"the Windows loopback library is missing ({exc}): install it with "
            f"`pip install {PACKAGE}`, or enable Stereo Mix and choose it as system audio",
        ) from exc


def pick_loopback(
    output_name: str, loopbacks: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The loopback twin of the output `output_name`: by its exact name first (two outputs
    can share a prefix: "Speakers" and "Speakers 2"), else any name containing it."""
    candidates = list(loopbacks)
    exact = f"{output_name}{LOOPBACK_SUFFIX}"
    for loopback in candidates:
        if loopback["name"] == exact:
            return loopback
    return next((lb for lb in candidates if output_name in str(lb["name"])), None)


def default_loopback(library: Any, pa: Any) -> LoopbackDevice:
    """The loopback device of Windows' default output, as this PyAudio instance lists it."""
    try:
        wasapi = pa.get_host_api_info_by_type(library.paWASAPI)
    except OSError as exc:
        raise AudioDeviceError(
            SYSTEM_AUDIO, "Windows audio (WASAPI) is not available on this computer"
        ) from exc
    index = int(wasapi.get("defaultOutputDevice", -1))
    if index < 0:
        raise AudioDeviceError(
            SYSTEM_AUDIO,
            "Windows has no default playback device: connect speakers or headphones, or "
            "choose one in Settings > System > Sound",
        )
    output = pa.get_device_info_by_index(index)
    if output.get("isLoopbackDevice"):
        chosen: Mapping[str, Any] | None = output
    else:
        chosen = pick_loopback(str(output["name"]), pa.get_loopback_device_info_generator())
    if chosen is None:
        raise AudioDeviceError(
            SYSTEM_AUDIO,
            f"Windows offers no loopback capture of {output['name']}; choose another playback "
            "device, or enable Stereo Mix and choose it as system audio",
        )
    return LoopbackDevice(
        int(chosen["index"]),
        str(chosen["name"]),
        int(chosen["defaultSampleRate"]),
        max(1, int(chosen["maxInputChannels"])),
    )


def default_output_name() -> str | None:
    """Windows' default playback device as the MME layer names it now (31 characters at
    most), or None when it cannot say. Only compared with its own earlier answers."""
    import ctypes
    from ctypes import wintypes

    class WAVEOUTCAPSW(ctypes.Structure):
        _fields_ = (
            ("wMid", wintypes.WORD),
            ("wPid", wintypes.WORD),
            ("vDriverVersion", wintypes.UINT),
            ("szPname", wintypes.WCHAR * MAXPNAMELEN),
            ("dwFormats", wintypes.DWORD),
            ("wChannels", wintypes.WORD),
            ("wReserved1", wintypes.WORD),
            ("dwSupport", wintypes.DWORD),
        )

    try:
        winmm = ctypes.WinDLL("winmm")  # type: ignore[attr-defined]
    except (AttributeError, OSError):  # not Windows, or no MME
        return None
    device, flags = wintypes.DWORD(), wintypes.DWORD()
    winmm.waveOutMessage.argtypes = (
        ctypes.c_void_p, wintypes.UINT, ctypes.c_void_p, ctypes.c_void_p,
    )  # fmt: skip
    status = winmm.waveOutMessage(
        ctypes.c_void_p(WAVE_MAPPER),
        DRVM_MAPPER_PREFERRED_GET,
        ctypes.addressof(device),
        ctypes.addressof(flags),
    )
    if status != 0:
        return None
    caps = WAVEOUTCAPSW()
    if winmm.waveOutGetDevCapsW(device.value, ctypes.byref(caps), ctypes.sizeof(caps)) != 0:
        return None
    return str(caps.szPname)


class WasapiLoopbackSource(NativeCaptureSource):
    """What Windows' default output plays, following it when it changes."""

    def __init__(
        self,
        device: CaptureDevice,
        *,
        sample_rate: int = 16000,
        label: str | None = None,
        default_output: Callable[[], str | None] = default_output_name,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(device, sample_rate=sample_rate, label=label, clock=clock)
        self._default_output = default_output
        self._output_when_opened: str | None = None
        self._pa: Any = None
        self._stream: Any = None
        self.opened: LoopbackDevice | None = None  # what is being captured

    def _output_now(self) -> str | None:
        try:
            return self._default_output()
        except Exception as exc:  # a probe that fails says nothing; the stream's state still does
            log.debug("the default output could not be asked: %s", exc)
            return None

    def _open(self) -> None:
        library = import_pyaudiowpatch()
        self._output_when_opened = self._output_now()
        pa = library.PyAudio()  # a fresh PortAudio: it lists the devices as they are now
        try:
            loopback = default_loopback(library, pa)
            converter = BlockConverter(
                PcmFormat(loopback.sample_rate, loopback.channels, "float32"),
                self.info.sample_rate,
            )

            def callback(data: bytes | None, frames: int, time: Any, status: int) -> Any:
                if data:
                    self._deliver(converter.convert(data))
                return (None, library.paContinue)

            stream = pa.open(
                format=library.paFloat32,
                channels=loopback.channels,
                rate=loopback.sample_rate,
                input=True,
                input_device_index=loopback.index,
                frames_per_buffer=max(1, loopback.sample_rate // 50),  # 20 ms
                stream_callback=callback,
            )
        except AudioDeviceError:
            pa.terminate()
            raise
        except (OSError, ValueError) as exc:
            pa.terminate()
            why = f"cannot open the loopback capture: {exc}"
            raise AudioDeviceError(SYSTEM_AUDIO, why) from exc
        self._pa, self._stream, self.opened = pa, stream, loopback
        log.info("capturing %s (%d Hz)", loopback.name, loopback.sample_rate)

    def _close(self) -> None:
        stream, pa = self._stream, self._pa
        self._stream = self._pa = None
        try:
            if stream is not None:
                stream.stop_stream()
                stream.close()
        finally:
            if pa is not None:
                pa.terminate()  # the next open starts PortAudio afresh, with today's devices

    def _needs_reopen(self) -> str | None:
        stream = self._stream
        if stream is not None and not stream.is_active():
            return "the playback device stopped (unplugged?)"
        now = self._output_now()
        if now is not None and now != self._output_when_opened:
            return f"the default playback device is now {now}"
        return None
