"""The provider's speakers, taught to local speaker clusters while it serves a session.

With `diarize`, the cloud provider numbers the voices it hears (Deepgram: 0, 1, ... in its
own order) and the local engine, after a failover, numbers them again from nobody. So while
the provider serves, each of its finals is split into runs of one speaker, each run's audio is
embedded (GE2E, off the event loop: about 0.015 CPU-s per audio second) and taught to that
channel's clusters under the provider's number. A local engine that takes over labels from
these clusters: the provider's speaker 1 stays 1, and a voice it never heard gets the next
number. A new provider connection (a fail-back) numbers its voices afresh, so the lessons
start again with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.protocol.messages import Results, Word
from app.protocol.pcm import FloatArray
from app.server.asr.speaker_clusters import ClusterSettings, SpeakerClusters

log = logging.getLogger(__name__)
EmbedVoice = Callable[[FloatArray, int], Awaitable[FloatArray]]  # audio at a rate -> embedding
AudioOf = Callable[[int, float, float], FloatArray | None]  # channel, start, end -> audio


@dataclass(frozen=True)
class SpeakerRun:
    speaker: int
    start: float
    end: float


def speaker_runs(words: tuple[Word, ...]) -> list[SpeakerRun]:
    """Consecutive words of one speaker, as runs (words without a speaker end a run)."""
    runs: list[SpeakerRun] = []
    in_run = False  # the previous word had a speaker
    for word in words:
        if word.speaker is None:
            in_run = False
        elif in_run and runs[-1].speaker == word.speaker:
            runs[-1] = SpeakerRun(word.speaker, runs[-1].start, word.end)
        else:
            runs.append(SpeakerRun(word.speaker, word.start, word.end))
            in_run = True
    return runs


class ProviderVoices:
    """Teaches one SpeakerClusters per channel the voices of the provider's finals."""

    def __init__(
        self,
        channels: int,
        rate: int,
        embed: EmbedVoice,
        audio: AudioOf,
        settings: ClusterSettings | None = None,
    ) -> None:
        self.channels = channels
        self.settings = settings or ClusterSettings()  # for the local engine after a failover
        self.rate = rate
        self._embed = embed
        self._audio = audio
        self.clusters = self._fresh()
        self._lessons: set[asyncio.Task[None]] = set()

    def _fresh(self) -> list[SpeakerClusters]:
        return [SpeakerClusters(self.settings) for _ in range(self.channels)]

    def hear(self, final: Results) -> None:
        """A final from the provider: teach its speakers' voices (in the background)."""
        channel = min(final.channel, self.channels - 1)
        clusters = self.clusters[channel]
        for run in speaker_runs(final.words):
            if run.end - run.start < clusters.settings.min_update_s:
                continue  # too short to teach anything: not worth embedding
            audio = self._audio(channel, run.start, run.end)
            if audio is None:
                continue  # no longer kept (a final far behind the audio)
            task = asyncio.get_running_loop().create_task(self._teach(clusters, run, audio))
            self._lessons.add(task)
            task.add_done_callback(self._lessons.discard)

    async def _teach(self, clusters: SpeakerClusters, run: SpeakerRun, audio: FloatArray) -> None:
        try:
            embedding = await self._embed(audio, self.rate)
            clusters.learn(run.speaker, embedding, run.end - run.start)
        except asyncio.CancelledError:
            raise
        except Exception:  # a lesson lost costs label continuity, never the captions
            log.exception("could not learn the provider's speaker %d", run.speaker)

    def restart(self) -> None:
        """A new provider connection numbers its voices afresh: so do the lessons."""
        self.cancel()
        self.clusters = self._fresh()

    def cancel(self) -> None:
        for task in list(self._lessons):
            task.cancel()
