"""The streaming transcriber's settings and the limits it keeps (`transcriber`)."""

from __future__ import annotations

from dataclasses import dataclass

from app.server.asr.decoder import MAX_WINDOW_S


@dataclass(frozen=True)
class TranscriberConfig:
    endpointing_s: float = 0.3
    speech_final: bool = True  # False when the client asked for endpointing=false
    utterance_end_s: float | None = None
    vad_events: bool = False
    interim_results: bool = True
    interim_step_s: float = 1.0
    preroll_s: float = 0.25
    tail_s: float = 0.2
    final_window_s: float = 20.0  # speech a final is decoded with (whole utterances)
    # Interims are redone every step and never settle a word alone: a greedy search on a
    # shorter window (bench/tune.py, tuning half: CPU 0.562 -> 0.499 s per audio s stepped,
    # WER 12.02 -> 12.02 %, word end->final p90 2.98 -> 3.01 s). A 4 s window saved more
    # (0.463) but misheard "ask not" as "ass not" after a step-down (test_auto_e2e).
    interim_window_s: float = 6.0
    interim_beam_size: int | None = 1  # None: as finals (the decoder's BEAM_SIZE)
    # Settles inside an utterance need a second decode to agree before a word is kept, so a
    # greedy search serves them (tune half: CPU 0.577 -> 0.531 s per audio s stepped, WER
    # 12.02 -> 11.85 %); utterance-end finals keep the beam.
    settle_beam_size: int | None = 1  # None: as finals (the decoder's BEAM_SIZE)
    settle_age_s: float = 2.0  # audio a word needs after it to settle inside an utterance
    settle_step_s: float = 2.0  # long-window decodes inside an utterance at most this often
    force_commit_s: float = 10.0  # no agreement for this long: settle all but the last words
    gap_keep_s: float = 1.0  # pauses inside a window are shortened to this
    history_s: float = 60.0  # audio kept for windows
    keyterms: tuple[str, ...] = ()  # the user's vocabulary: words and names to favour


# Speech after the settled words that decodes to nothing for this long is decoded alone.
CONTEXT_RETRY_S = 0.4
# Decodes stay inside whisper's 30 s window with room for one step of new audio.
MAX_SPAN_S = MAX_WINDOW_S - 2.0
# In silence, an empty final settles the audio every `PROGRESS_STEP_S`, as Deepgram's do: a
# client then knows it need not replay that audio after a reconnect, and a file source knows
# it may send more. It stops short of the newest audio by more than a speech onset reaches back.
PROGRESS_STEP_S = 2.0
PROGRESS_MARGIN_S = 1.0
