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


def test_speech_needs_two_windows_from_the_very_first_and_ends_after_300_ms_by_default() -> None:
    endpointer = Endpointer()
    assert endpointer.last_speech_end is None
    assert feed(endpointer, [0.9, 0.0]) == []  # one window, even the first, is a spike
    assert feed(endpointer, [0.9]) == []
    assert feed(endpointer, [0.9]) == [SpeechStart(2 * WINDOW_S)]
    assert feed(endpointer, [0.0] * 9) == []  # 288 ms of silence: not yet
    assert feed(endpointer, [0.0]) == [SpeechEnd(4 * WINDOW_S)]  # 320 ms


def test_probabilities_exactly_at_the_thresholds_count_as_speech() -> None:
    endpointer = Endpointer()
    assert feed(endpointer, [0.5, 0.5]) == [SpeechStart(0.0)]
    assert feed(endpointer, [endpointer.off_threshold] * 30) == []
    assert endpointer.in_speech


def test_the_last_speech_end_follows_the_speech_while_it_goes_on() -> None:
    endpointer = Endpointer()
    feed(endpointer, [0.9] * 5)
    assert endpointer.last_speech_end == 5 * WINDOW_S
    feed(endpointer, [0.0, 0.9])
    assert endpointer.last_speech_end == 7 * WINDOW_S


def test_an_utterance_ends_on_the_window_whose_silence_reaches_the_endpointing_time() -> None:
    endpointer = Endpointer(endpointing_s=10 * WINDOW_S)
    feed(endpointer, [0.9] * 5 + [0.0] * 5 + [0.9])  # a pause, then speech again
    assert feed(endpointer, [0.0] * 9) == []  # the pause before does not count
    assert feed(endpointer, [0.0]) == [SpeechEnd(11 * WINDOW_S)]


def test_after_an_utterance_a_new_one_needs_the_full_onset_again() -> None:
    endpointer = Endpointer()
    feed(endpointer, [0.9] * 5 + [0.0] * 10)
    assert not endpointer.in_speech
    assert feed(endpointer, [0.9, 0.0, 0.9, 0.0]) == []
    assert feed(endpointer, [0.9, 0.9]) == [SpeechStart(19 * WINDOW_S)]


def test_utterance_end_comes_on_the_window_whose_silence_reaches_it_and_only_once() -> None:
    # Speech for windows 0-9, ended after 10 silent windows: the last speech ends at 10 windows.
    endpointer = Endpointer(endpointing_s=0.3, utterance_end_s=40 * WINDOW_S - 10 * WINDOW_S)
    events = feed(endpointer, [0.9] * 10 + [0.0] * 29)
    assert events == [SpeechStart(0.0), SpeechEnd(10 * WINDOW_S)]
    assert feed(endpointer, [0.0]) == [SilenceTimeout(10 * WINDOW_S)]  # window 40
    assert feed(endpointer, [0.0] * 50) == []


def test_a_hypothesis_of_only_the_open_last_word_commits_nothing() -> None:
    agreement = LocalAgreement()
    agreement.insert([w(" ask")])
    assert agreement.insert([w(" ask")]) == []
    assert agreement.insert([w(" ask"), w(" not")]) == [w(" ask")]


def test_after_a_reset_agreement_starts_over() -> None:
    agreement = LocalAgreement()
    agreement.insert([w(" ask"), w(" not"), w(" what")])
    agreement.reset()
    assert agreement.previous == []
    assert agreement.insert([w(" ask"), w(" not"), w(" what")]) == []
