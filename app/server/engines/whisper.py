"""The local engine: faster-whisper's CTranslate2 model, streamed with VAD and LocalAgreement;
with `diarize`, each final's voice is embedded (GE2E) and clustered into speaker labels.

One decode thread serves every session (CTranslate2 parallelises inside a decode; two decodes
at once on a small CPU only slow both), and one thread runs the VAD, so neither ever blocks
the event loop. Two engines loaded side by side (Auto's base and tiny.en) share both threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from app.errors import CaptionError, ParamError
from app.models.store import ModelStore, ResolvedModel
from app.protocol.messages import Error
from app.protocol.params import StreamParams
from app.protocol.pcm import FloatArray
from app.server.asr.decoder import BEAM_SIZE, Decoding, WhisperDecoder
from app.server.asr.labelling import Label
from app.server.asr.resample import StreamResampler
from app.server.asr.settings import TranscriberConfig
from app.server.asr.silero_net import SileroNet
from app.server.asr.speaker_clusters import ClusterSettings, SpeakerClusters
from app.server.asr.speaker_turns import TurnSettings, VoiceWindows, voice_windows
from app.server.asr.transcriber import ChannelTranscriber
from app.server.asr.vad import StreamingVad
from app.server.engines import DEFAULT_THREADS
from app.server.engines.base import BackgroundWork, Emit
from app.server.speakers.encoder import SpeakerEncoder

log = logging.getLogger(__name__)
RATE = 16000
# Less speech than this says too little about a voice: the clusters keep the previous label.
MIN_VOICE_S = 0.5


class WhisperEngine:
    name = "whisper"

    def __init__(
        self,
        model: ResolvedModel,
        *,
        threads: int = DEFAULT_THREADS,
        tuning: TranscriberConfig | None = None,
        share_threads_with: WhisperEngine | None = None,
    ) -> None:
        self.model = model
        self.model_name = model.name
        self.threads = threads
        self.tuning = tuning or TranscriberConfig()
        self.selection_note = ""  # why this model runs, when Auto chose it
        self.sessions_open = 0
        # A better choice became known while this engine ran (Auto's probe after the first
        # captions): the app loads afresh at the next Start.
        self.reload_due = False
        self.background_work: BackgroundWork | None = None  # stopped when the engine closes
        self.decoder = WhisperDecoder(model.path, threads=threads)
        self._vad_net = SileroNet.shared()
        self._decode_pool: ThreadPoolExecutor
        self._vad_pool: ThreadPoolExecutor
        if share_threads_with is not None:
            self._decode_pool = share_threads_with._decode_pool
            self._vad_pool = share_threads_with._vad_pool
        else:
            self._decode_pool = ThreadPoolExecutor(1, thread_name_prefix="whisper-decode")
            self._vad_pool = ThreadPoolExecutor(1, thread_name_prefix="vad")

    @classmethod
    def load(
        cls,
        model: str,
        *,
        store: ModelStore | None = None,
        threads: int = DEFAULT_THREADS,
        tuning: TranscriberConfig | None = None,
        share_threads_with: WhisperEngine | None = None,
    ) -> WhisperEngine:
        resolved = (store or ModelStore()).resolve(model)
        return cls(resolved, threads=threads, tuning=tuning, share_threads_with=share_threads_with)

    def warm_up(self) -> None:
        """One decode so the first caption does not pay for lazy initialisation."""
        self.decoder.decode(np.zeros(16000, dtype=np.float32), word_timestamps=True)

    def check_params(self, params: StreamParams) -> None:
        if not self.decoder.supports_language(params.language):
            raise ParamError(
                "language", params.language, f"model {self.model_name} does not support it"
            )
        if params.diarize:
            try:
                SpeakerEncoder.shared()  # loaded and verified once, before the session opens
            except CaptionError as exc:
                raise ParamError("diarize", "true", f"speaker labels unavailable: {exc}") from exc

    def open_session(
        self,
        params: StreamParams,
        emit: Emit,
        speakers: Sequence[SpeakerClusters] | None = None,
    ) -> WhisperSession:
        """`speakers`, with `diarize`: the channels' clusters to label from (a failover's
        voices taught by the provider); by default each channel starts knowing nobody."""
        return WhisperSession(self, params, emit, speakers)

    async def decode(
        self, audio: FloatArray, prompt: str, prefix: str, language: str, beam: int | None = None
    ) -> Decoding:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._decode_pool, lambda: self.decode_now(audio, prompt, prefix, language, beam)
        )

    def decode_now(
        self, audio: FloatArray, prompt: str, prefix: str, language: str, beam: int | None = None
    ) -> Decoding:
        """One decode on the calling thread, as sessions decode (the CPU probe times these).
        `beam`: the beam size (None: the decoder's own)."""
        return self.decoder.decode(
            audio, prompt=prompt, prefix=prefix, language=language, beam_size=beam or BEAM_SIZE
        )

    async def run_vad(self, vad: StreamingVad, audio: FloatArray) -> FloatArray:
        return await asyncio.get_running_loop().run_in_executor(self._vad_pool, vad.process, audio)

    async def embed_voice(self, audio: FloatArray, rate: int) -> FloatArray:
        """The voice embedding of `audio` at `rate` Hz, on the VAD thread as the labeller's:
        between a provider's finals it is idle, and the labels it computes queue behind."""
        encoder = SpeakerEncoder.shared()

        def embed() -> FloatArray:
            return encoder.embed(StreamResampler(rate).process(audio, last=True))

        return await asyncio.get_running_loop().run_in_executor(self._vad_pool, embed)

    def labeller(
        self,
        clusters: SpeakerClusters | None = None,
        max_speakers: int | None = None,
        turns: TurnSettings | None = None,
    ) -> Label:
        """One channel's speaker labels: its finals' voices, clustered as they come (into
        `clusters`, if given, else new ones of at most `max_speakers`). The embedding runs on
        the VAD thread, beside the decode of the same final."""
        if clusters is None:
            clusters = SpeakerClusters(ClusterSettings(max_speakers=max_speakers))
        encoder = SpeakerEncoder.shared()

        async def label(audio: FloatArray, start: float) -> int | VoiceWindows:
            seconds = len(audio) / RATE
            if seconds < MIN_VOICE_S:
                return clusters.assign(None, seconds, start)
            windows = await asyncio.get_running_loop().run_in_executor(
                self._vad_pool, encoder.embed_partials, audio
            )
            return voice_windows(clusters, windows, seconds, start, turns)

        return label

    async def aclose(self) -> None:
        self.close_now()

    def close_now(self) -> None:
        if self.background_work is not None:
            self.background_work.cancel()
        self._decode_pool.shutdown(wait=False, cancel_futures=True)
        self._vad_pool.shutdown(wait=False, cancel_futures=True)


class WhisperSession:
    def __init__(
        self,
        engine: WhisperEngine,
        params: StreamParams,
        emit: Emit,
        speakers: Sequence[SpeakerClusters] | None = None,
    ) -> None:
        self._engine = engine
        self._emit = emit
        self._closed = False
        config = replace(
            engine.tuning,
            endpointing_s=(params.endpointing_ms or 1000) / 1000,
            speech_final=params.endpointing_ms is not None,
            utterance_end_s=(params.utterance_end_ms / 1000) if params.utterance_end_ms else None,
            vad_events=params.vad_events,
            interim_results=params.interim_results,
            keyterms=params.keyterms,
        )
        self._resamplers = [StreamResampler(params.sample_rate) for _ in range(params.channels)]
        self._channels: list[ChannelTranscriber] = []
        for index in range(params.channels):
            vad = StreamingVad(engine._vad_net)

            async def run_vad(audio: FloatArray, vad: StreamingVad = vad) -> FloatArray:
                return await engine.run_vad(vad, audio)

            async def decode(
                audio: FloatArray, prompt: str, prefix: str, beam: int | None
            ) -> Decoding:
                return await engine.decode(audio, prompt, prefix, params.language, beam)

            transcriber = ChannelTranscriber(
                config,
                decode=decode,
                run_vad=run_vad,
                emit=emit,
                channel=index,
                channels=params.channels,
                label=engine.labeller(speakers[index] if speakers else None, params.max_speakers)
                if params.diarize
                else None,
            )
            transcriber.start().add_done_callback(self._on_channel_done)
            self._channels.append(transcriber)
        engine.sessions_open += 1  # last: a session that failed to open is not counted

    def _on_channel_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        log.error("transcription failed", exc_info=exc)
        reason = str(exc) if isinstance(exc, CaptionError) else f"{type(exc).__name__}: {exc}"
        self._emit(Error("ENGINE_ERROR", reason))

    def feed(self, channels: list[FloatArray]) -> None:
        if self._closed:
            return
        for resampler, transcriber, audio in zip(
            self._resamplers, self._channels, channels, strict=True
        ):
            transcriber.feed(resampler.process(audio))

    def finalize(self) -> None:
        for transcriber in self._channels:
            transcriber.finalize()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._drain()
        finally:
            self._engine.sessions_open -= 1

    async def _drain(self) -> None:
        for resampler, transcriber in zip(self._resamplers, self._channels, strict=True):
            tail = resampler.flush()
            if len(tail):
                transcriber.feed(tail)
        await asyncio.gather(*(t.close() for t in self._channels), return_exceptions=True)

    def abort(self) -> None:
        if not self._closed:
            self._engine.sessions_open -= 1
        self._closed = True
        for transcriber in self._channels:
            transcriber.abort()

    @property
    def backlog_s(self) -> float:
        return max((t.backlog_s for t in self._channels), default=0.0)
