"""Stream time across connections: shift a connection's timestamps, drop words already final.

A server times everything from the first sample of *its* connection. After a reconnect the
client replays audio from just before the end of the last final, so it adds that replay
offset to every timestamp (the transcript stays on one clock), and drops any word that ends
where a final already covers (the replay repeats words before it; none may appear twice).
"""

from __future__ import annotations

from dataclasses import replace

from app.protocol.messages import Results, ServerMessage, SpeechStarted, UtteranceEnd, Word

# A word that ends within this of the last final's end is the same word seen again.
SAME_WORD_SLACK_S = 0.05
# A replay (reconnect, failover) starts this long before the last final's end: an engine
# that starts mid-sentence mishears the first word without it; the words it repeats from
# there are dropped.
REPLAY_CONTEXT_S = 1.5


def shifted(message: ServerMessage, offset_s: float) -> ServerMessage:
    if offset_s == 0:
        return message
    if isinstance(message, Results):
        return replace(
            message,
            start=message.start + offset_s,
            words=tuple(
                replace(w, start=w.start + offset_s, end=w.end + offset_s) for w in message.words
            ),
        )
    if isinstance(message, UtteranceEnd):
        return replace(message, last_word_end=message.last_word_end + offset_s)
    if isinstance(message, SpeechStarted):
        return replace(message, timestamp=message.timestamp + offset_s)
    return message


def without_settled_words(results: Results, settled_until_s: float) -> Results:
    """`results` minus words that end at or before `settled_until_s` (already final)."""
    if not results.words or results.words[0].end > settled_until_s + SAME_WORD_SLACK_S:
        return results
    kept: tuple[Word, ...] = tuple(
        w for w in results.words if w.end > settled_until_s + SAME_WORD_SLACK_S
    )
    return replace(results, transcript=" ".join(w.word for w in kept), words=kept)
