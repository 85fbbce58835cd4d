"""System audio on macOS 13+: ScreenCaptureKit's audio, through pyobjc.

An SCStream over the main display with `capturesAudio` on and the app's own sound left out
(`excludesCurrentProcessAudio`): what the Mac plays, the other people in a call. The stream
must carry video too; it is asked for the least there is (2 x 2 pixels, one frame a second)
and the video is not read. Audio arrives as CMSampleBuffers on a ScreenCaptureKit queue; their
bytes become the app's blocks (app/audio/pcm_blocks.py). The pyobjc modules are imported only
here, only when a macOS system-audio capture opens.

macOS asks the user for "Screen & System Audio Recording" permission; without it every call
fails with SCStreamErrorUserDeclined, which becomes an AudioDeviceError saying where to grant
it, and that a loopback driver (BlackHole) works without it (app/audio/live.py falls back to
one when it is installed).
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.audio.devices import CaptureDevice
from app.audio.native_source import NativeCaptureSource
from app.audio.pcm_blocks import BlockConverter, PcmFormat
from app.errors import AudioDeviceError

log = logging.getLogger(__name__)
PACKAGE = "pyobjc-framework-ScreenCaptureKit"
SYSTEM_AUDIO = "System audio"
PERMISSION_PLACE = "System Settings → Privacy & Security → Screen & System Audio Recording"
FALLBACK_HINT = (
    "a loopback driver such as BlackHole works without it: install it, send the call's "
    "sound to it, and choose it as system audio"
)
CAPTURE_RATE = 48000  # asked of ScreenCaptureKit; mono, so planar and interleaved are alike
ANSWER_TIMEOUT_S = 10.0
# SCStreamErrorCode values (ScreenCaptureKit/SCError.h)
USER_DECLINED = -3801
MISSING_ENTITLEMENTS = -3803
# AudioStreamBasicDescription.mFormatFlags
FLAG_IS_FLOAT = 1 << 0
FLAG_IS_NON_INTERLEAVED = 1 << 5


def import_screencapturekit() -> tuple[Any, Any]:
    """The ScreenCaptureKit and CoreMedia modules of pyobjc."""
    try:
        return importlib.import_module("ScreenCaptureKit"), importlib.import_module("CoreMedia")
    except ImportError as exc:
        raise AudioDeviceError(
            SYSTEM_AUDIO,
            f"ScreenCaptureKit for Python is missing ({exc}): install it with "
            f"`pip install {PACKAGE}`; or {FALLBACK_HINT}",
        ) from exc


def capture_error(code: int, description: str) -> AudioDeviceError:
    """ScreenCaptureKit's error as one the user can act on."""
    if code in (USER_DECLINED, MISSING_ENTITLEMENTS):
        return AudioDeviceError(
            SYSTEM_AUDIO,
            "macOS has not allowed Captionist to record the system audio: allow it in "
            f"{PERMISSION_PLACE} (switch Captionist on, then quit and reopen it); or "
            f"{FALLBACK_HINT}",
        )
    return AudioDeviceError(
        SYSTEM_AUDIO,
        f"ScreenCaptureKit could not capture the audio ({description}, error {code}); "
        f"{FALLBACK_HINT}",
    )


def format_from_description(rate: float, channels: int, flags: int, bits: int) -> PcmFormat | None:
    """The PcmFormat an AudioStreamBasicDescription describes, None for one the app cannot
    read (then the configured format is assumed)."""
    if flags & FLAG_IS_FLOAT:
        encoding = "float32" if bits == 32 else None
    else:
        encoding = {16: "int16", 32: "int32"}.get(bits)
    if encoding is None or channels < 1 or rate <= 0:
        return None
    planar = bool(flags & FLAG_IS_NON_INTERLEAVED)
    return PcmFormat(round(rate), channels, encoding, planar)  # type: ignore[arg-type]


def sample_format(coremedia: Any, sample_buffer: Any) -> PcmFormat:
    """The format of one audio sample buffer, as its format description says."""
    configured = PcmFormat(CAPTURE_RATE, 1, "float32")
    try:
        description = coremedia.CMSampleBufferGetFormatDescription(sample_buffer)
        asbd = coremedia.CMAudioFormatDescriptionGetStreamBasicDescription(description)
        found = format_from_description(
            float(asbd.mSampleRate),
            int(asbd.mChannelsPerFrame),
            int(asbd.mFormatFlags),
            int(asbd.mBitsPerChannel),
        )
    except Exception as exc:  # a description pyobjc cannot hand over: the configured one
        log.debug("no audio format description (%s): assuming the configured one", exc)
        return configured
    return found or configured


def sample_bytes(coremedia: Any, sample_buffer: Any) -> bytes:
    block = coremedia.CMSampleBufferGetDataBuffer(sample_buffer)
    if block is None:
        return b""
    length = int(coremedia.CMBlockBufferGetDataLength(block))
    status, data = coremedia.CMBlockBufferCopyDataBytes(block, 0, length, None)
    return bytes(data) if status == 0 and data is not None else b""


def wait_for(begin: Callable[[Callable[..., None]], object], what: str) -> tuple[Any, ...]:
    """Call `begin` with a completion handler and wait (this is a worker thread) for it."""
    answered = threading.Event()
    answer: list[tuple[Any, ...]] = []

    def handler(*args: Any) -> None:
        answer.append(args)
        answered.set()

    begin(handler)
    if not answered.wait(ANSWER_TIMEOUT_S):
        raise AudioDeviceError(SYSTEM_AUDIO, f"macOS did not answer ({what}) in time")
    return answer[0]


def error_of(error: Any) -> AudioDeviceError:
    return capture_error(int(error.code()), str(error.localizedDescription()))


_receiver_class: Any = None


def receiver_class(sck: Any) -> Any:
    """An NSObject that is both the stream's output and its delegate. Defined once a process:
    Objective-C classes are global. Its Python handlers are plain attributes, as pyobjc would
    take any other method for an Objective-C selector."""
    global _receiver_class
    if _receiver_class is None:

        class CaptionistAudioReceiver(sck.NSObject):  # type: ignore[misc]
            def stream_didOutputSampleBuffer_ofType_(
                self, stream: Any, buffer: Any, kind: int
            ) -> None:
                self.on_sample(buffer, kind)

            def stream_didStopWithError_(self, stream: Any, error: Any) -> None:
                self.on_stop(error)

        _receiver_class = CaptionistAudioReceiver
    return _receiver_class


class ScreenCaptureAudioSource(NativeCaptureSource):
    """What the Mac plays, except this app's own sound."""

    def __init__(
        self,
        device: CaptureDevice,
        *,
        sample_rate: int = 16000,
        label: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(device, sample_rate=sample_rate, label=label, clock=clock)
        self._stream: Any = None
        self._receiver: Any = None
        self._converter: BlockConverter | None = None
        self._stopped_because: str | None = None

    def _open(self) -> None:
        sck, coremedia = import_screencapturekit()
        content, error = wait_for(
            sck.SCShareableContent.getShareableContentWithCompletionHandler_,
            "the displays to capture",
        )
        if error is not None:
            raise error_of(error)
        displays = list(content.displays() or ())
        if not displays:
            raise AudioDeviceError(SYSTEM_AUDIO, "macOS lists no display to capture with")
        content_filter = sck.SCContentFilter.alloc().initWithDisplay_excludingWindows_(
            displays[0], []
        )
        config = sck.SCStreamConfiguration.alloc().init()
        config.setCapturesAudio_(True)
        config.setExcludesCurrentProcessAudio_(True)  # not the app's own sounds
        config.setSampleRate_(CAPTURE_RATE)
        config.setChannelCount_(1)
        config.setWidth_(2)
        config.setHeight_(2)
        config.setMinimumFrameInterval_(coremedia.CMTimeMake(1, 1))
        receiver = receiver_class(sck).alloc().init()
        audio_type = sck.SCStreamOutputTypeAudio
        receiver.on_sample = lambda buffer, kind: self._sample(coremedia, buffer, kind, audio_type)
        receiver.on_stop = self._stopped
        stream = sck.SCStream.alloc().initWithFilter_configuration_delegate_(
            content_filter, config, receiver
        )
        added, error = stream.addStreamOutput_type_sampleHandlerQueue_error_(
            receiver, audio_type, None, None
        )
        if not added:
            raise error_of(error)
        (error,) = wait_for(stream.startCaptureWithCompletionHandler_, "starting the capture")
        if error is not None:
            raise error_of(error)
        self._stream, self._receiver, self._stopped_because = stream, receiver, None

    def _sample(self, coremedia: Any, buffer: Any, kind: int, audio_type: int) -> None:
        if kind != audio_type:
            return  # the video the stream has to carry
        fmt = sample_format(coremedia, buffer)
        if self._converter is None or self._converter.fmt != fmt:
            self._converter = BlockConverter(fmt, self.info.sample_rate)
        data = sample_bytes(coremedia, buffer)
        if data:
            self._deliver(self._converter.convert(data))

    def _stopped(self, error: Any) -> None:
        reason = error_of(error).reason if error is not None else "the capture stopped"
        log.warning("ScreenCaptureKit stopped the capture: %s", reason)
        self._stopped_because = reason  # the watcher reopens, or gives up saying this

    def _close(self) -> None:
        stream, self._stream, self._receiver = self._stream, None, None
        if stream is not None:
            wait_for(stream.stopCaptureWithCompletionHandler_, "stopping the capture")

    def _needs_reopen(self) -> str | None:
        return self._stopped_because
