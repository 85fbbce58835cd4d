"""Endpointing, agreement and punctuation merging: the pure parts of the streaming engine."""

from app.server.asr.agreement import LocalAgreement, normalise
from app.server.asr.decoder import DecodedWord, merge_punctuation, window_for
from app.server.asr.endpointer import WINDOW_S, Endpointer, SilenceTimeout, SpeechEnd, SpeechStart


def feed(endpointer: Endpointer, probabilities: list[float]) -> list[object]:
    events: list[object] = []
    for p in probabilities:
        events.extend(endpointer.update(p))
    return events


def test_speech_start_and_end_after_the_endpointing_silence() -> None:
    endpointer = Endpointer(endpointing_s=0.3)
    events = feed(endpointer, [0.0] * 10 + [0.9] * 20 + [0.05] * 9)
    assert events == [SpeechStart(10 * WINDOW_S)]
    events = feed(endpointer, [0.05])  # the 10th silent window: 320 ms >= 300 ms
    assert events == [SpeechEnd(30 * WINDOW_S)]


def test_a_single_spike_is_not_speech_and_short_pauses_do_not_end_it() -> None:
    endpointer = Endpointer(endpointing_s=0.3)
    assert feed(endpointer, [0.0, 0.9, 0.0, 0.9, 0.0]) == []
    events = feed(endpointer, [0.9] * 5 + [0.1] * 5 + [0.9] * 5)
    assert [type(e) for e in events] == [SpeechStart]
    # Hysteresis: 0.4 is below the onset threshold but above the offset one.
    assert feed(endpointer, [0.4] * 30) == []


def test_utterance_end_after_the_longer_silence() -> None:
    endpointer = Endpointer(endpointing_s=0.3, utterance_end_s=1.0)
    events = feed(endpointer, [0.9] * 10 + [0.0] * 40)
    assert [type(e) for e in events] == [SpeechStart, SpeechEnd, SilenceTimeout]
    assert isinstance(events[2], SilenceTimeout) and events[2].last_speech_end == 10 * WINDOW_S


def test_force_end_closes_an_open_utterance_only() -> None:
    endpointer = Endpointer()
    assert endpointer.force_end() is None
    feed(endpointer, [0.9] * 5)
    assert isinstance(endpointer.force_end(), SpeechEnd)
    assert not endpointer.in_speech


def w(text: str, start: float = 0.0) -> DecodedWord:
    return DecodedWord(text, start, start + 0.3, 0.9)


def test_local_agreement_commits_the_common_prefix_only() -> None:
    agreement = LocalAgreement()
    assert agreement.insert([w(" And"), w(" so"), w(" my")]) == []
    settled = agreement.insert([w(" and"), w(" so,"), w(" my"), w(" fellow")])
    assert [x.text for x in settled] == [" and", " so,", " my"]
    assert [x.text for x in agreement.previous] == [" fellow"]


def test_local_agreement_keeps_the_last_word_open() -> None:
    agreement = LocalAgreement()
    agreement.insert([w(" ask"), w(" not")])
    assert [x.text for x in agreement.insert([w(" ask"), w(" not")])] == [" ask"]


def test_normalise_ignores_case_and_punctuation() -> None:
    assert normalise(" Americans.") == normalise("americans") == "americans"
    assert normalise(" don't") == "don't"


def test_punctuation_tokens_join_their_words() -> None:
    merged = merge_punctuation(
        [w(" ,"), w(" Hello"), w(","), w(" world"), w("."), w(' "'), w("Yes")]
    )
    assert [x.text for x in merged] == [" Hello,", " world.", ' "Yes']


def test_window_grows_with_the_audio_within_bounds() -> None:
    assert window_for(1.0) == 15
    assert window_for(12.0) == 18
    assert window_for(29.0) == 30
