"""Fault figures: words lost and time to recover when the server dies or the provider fails.

    python bench/faults.py [--item pub_commonvoice_session_01] [--skip-provider]

1. Server crash: `captionist transcribe FILE --server URL --realtime` against `captionist serve`,
   which is killed (SIGKILL) and restarted twice, each time down for several seconds. Compared
   with the same run without faults: WER of both, words lost (in the clean transcript, missing
   from the faulted one), each outage and the time from restart to captions flowing again,
   and the server-side stream time received versus the audio sent.
2. Provider faults (Deepgram, faked locally with the real engine): for each fault, the time
   from the moment it is detectable to the failover Warning, and words lost versus local-only.
3. Full disk (`bench/full_disk.py`, needs root to mount a small disk image): the desktop
   app's autosave disk fills while it captions; the warning, the journal and Quit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import load_items, normalise  # noqa: E402
from streaming import transcribe_command  # noqa: E402

CAPTIONIST = [sys.executable, "-m", "app"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start listening")


@dataclass
class CrashRun:
    text: str
    stderr: str
    returncode: int
    events: list[dict]  # type: ignore[type-arg]
    server_logs: list[str] = field(default_factory=list)
    kill_audio_s: list[float] = field(default_factory=list)  # audio sent when each kill hit
    down_s: list[float] = field(default_factory=list)  # kill to listening again
    recover_s: list[float] = field(default_factory=list)  # listening again to the next result

    @property
    def stream_offsets(self) -> list[float]:
        found = (re.findall(r"opened at stream offset ([0-9.]+)", log) for log in self.server_logs)
        return [float(x) for offsets in found for x in offsets]

    @property
    def stream_end(self) -> float | None:
        ends = [e["msg"].get("stream_end") for e in self.events if e["msg"]["type"] == "Metadata"]
        return ends[-1] if ends else None


def crash_run(audio: Path, kills: list[tuple[float, float]], workdir: Path) -> CrashRun:
    """Transcribe `audio` in real time; at each (t, pause): SIGKILL the server at t seconds,
    start it again `pause` seconds later (plus its own start-up time)."""
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ws/transcribe"
    logs: list[Path] = []

    def start_server() -> subprocess.Popen[bytes]:
        log = workdir / f"serve-{len(logs)}.log"
        logs.append(log)
        proc = subprocess.Popen(
            [*CAPTIONIST, "--log-level", "INFO", "serve", "--port", str(port)],
            cwd=ROOT,
            stderr=log.open("wb"),
        )
        wait_listening(port, proc)
        return proc

    events = workdir / f"events-{len(kills)}-kills.jsonl"
    server = start_server()
    started = time.monotonic()
    client = subprocess.Popen(
        transcribe_command(audio, url, events),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = CrashRun("", "", 0, [])
    restarts: list[float] = []
    try:
        for at, pause in kills:
            time.sleep(max(0.0, started + at - time.monotonic()))
            killed = time.monotonic()
            server.send_signal(signal.SIGKILL)
            server.wait()
            run.kill_audio_s.append(killed - started)
            time.sleep(pause)
            server = start_server()
            restarts.append(time.monotonic())
            run.down_s.append(restarts[-1] - killed)
        out, err = client.communicate(timeout=600)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    run.text, run.stderr, run.returncode = out, err, client.returncode
    run.events = [json.loads(line) for line in events.read_text().splitlines()]
    run.server_logs = [log.read_text() for log in logs]
    for restart in restarts:  # events carry t since the first frame (~ `started`)
        later = [e["t"] for e in run.events if e["t"] > restart - started]
        if later:
            run.recover_s.append(later[0] - (restart - started))
    return run


def error_counts(reference: str, hypothesis: str) -> tuple[int, int, int]:
    """(deletions, insertions, substitutions) of `hypothesis` against `reference`."""
    import jiwer

    out = jiwer.process_words(normalise(reference), normalise(hypothesis) or "<empty>")
    return out.deletions, out.insertions, out.substitutions


def words_lost(reference: str, clean: str, faulted: str) -> int:
    """Words the faulted run dropped beyond what the clean run dropped (never below 0)."""
    return max(0, error_counts(reference, faulted)[0] - error_counts(reference, clean)[0])


def words_doubled(reference: str, clean: str, faulted: str) -> int:
    """Words the faulted run added beyond the clean run's insertions (never below 0)."""
    return max(0, error_counts(reference, faulted)[1] - error_counts(reference, clean)[1])


def provider_faults() -> None:
    sys.path.insert(0, str(ROOT))
    import numpy as np

    from app.server.engines.deepgram import DeepgramConfig, DeepgramEngine
    from app.server.engines.failover import FailoverEngine
    from app.server.engines.whisper import WhisperEngine
    from app.server.server import ServerConfig, TranscriptionServer
    from tests.fake_deepgram import FakeDeepgram, Faults
    from tests.streaming import final_text, load, stream

    engine = WhisperEngine.load("tiny.en")
    engine.warm_up()
    jfk = load(ROOT / "tests/speech/audio/pub_jfk_inaugural_01.flac")
    audio = np.concatenate([jfk, np.zeros(16000, np.float32), jfk]).astype(np.float32)

    async def caption(server_engine: object) -> list:  # type: ignore[type-arg]
        async with TranscriptionServer(server_engine, ServerConfig(port=0)) as server:  # type: ignore[arg-type]
            return await stream(server.url, audio, speed=1.0)

    local = final_text(asyncio.run(caption(engine)))
    jfk_text = next(i for i in load_items() if i.id == "pub_jfk_inaugural_01").text_norm
    ref = f"{jfk_text} {jfk_text}"
    cases = [
        ("refused 401", Faults(refuse_status=401), 0.0),
        ("refused 429", Faults(refuse_status=429), 0.0),
        ("close 1011 at 6 s", Faults(close_after_s=6.0), 6.0),
        ("stall at 6 s", Faults(stall_after_s=6.0), 6.0 + 3.0),
        ("replies 2.5 s late", Faults(delay_s=2.5), None),
    ]
    print("\nprovider faults (fake Deepgram with the real engine; stall timeout 3 s, lag 4 s)")
    print(f"{'fault':<20} {'failover at':>11} {'after detectable':>17} {'lost':>5} {'doubled':>8}")
    print("(lost / doubled: deletions / insertions against the reference beyond local-only's)")
    for name, faults, detectable in cases:

        async def one(faults: Faults = faults) -> list:  # type: ignore[type-arg]
            async with FakeDeepgram(engine, "k") as fake:
                fake.faults = faults
                config = DeepgramConfig(
                    api_key="k", url=fake.url, stall_timeout_s=3.0, max_lag_s=4.0
                )
                return await caption(FailoverEngine(DeepgramEngine(config), engine))

        received = asyncio.run(one())
        warn = [r.t for r in received if type(r.message).__name__ == "Warning"]
        text = final_text(received)
        at = warn[0] if warn else float("nan")
        after = f"{at - detectable:.2f} s" if detectable is not None else "-"
        print(
            f"{name:<20} {at:>9.2f} s {after:>17} {words_lost(ref, local, text):>5} "
            f"{words_doubled(ref, local, text):>8}"
        )


def blackhole() -> None:
    """A connection that goes silent (no FIN, no RST): how long until the client notices."""
    sys.path.insert(0, str(ROOT))
    from app.client.lifecycle import LinkConfig, LinkState, ReconnectingStream
    from app.protocol.messages import Results
    from app.protocol.params import StreamParams
    from app.server.server import ServerConfig, TranscriptionServer
    from tests.fakes import ClockEngine
    from tests.netfaults import TcpProxy

    frame = b"\x10\x00" * 1600

    async def scenario() -> tuple[float, float, list[str]]:
        server = TranscriptionServer(ClockEngine(), ServerConfig(port=0))
        await server.start()
        states: list[tuple[float, LinkState]] = []
        words: list[str] = []
        async with TcpProxy(server.port) as proxy:
            stream = ReconnectingStream(
                f"ws://127.0.0.1:{proxy.port}/ws/transcribe",
                StreamParams(),
                config=LinkConfig(),
                on_state=lambda state, _: states.append((time.monotonic(), state)),
            )

            async def collect() -> None:
                async for message in stream.messages():
                    if isinstance(message, Results) and message.is_final:
                        words.extend(w.word for w in message.words)

            collector = asyncio.create_task(collect())
            hole = 0.0
            for i in range(200):  # 20 s in real time
                stream.push(frame)
                await asyncio.sleep(0.1)
                if i == 30:
                    proxy.blackhole_existing()
                    hole = time.monotonic()
            stream.finish()
            await collector
        await server.close()
        noticed = next(t for t, s in states if s is LinkState.RECONNECTING) - hole
        back = next(t for t, s in states if s is LinkState.STREAMING and t > hole) - hole
        return noticed, back, words

    noticed, back, words = asyncio.run(scenario())
    expected = [f"s{k}" for k in range(20)]
    lost = len(set(expected) - set(words))
    doubled = len(words) - len(set(words))
    print("\nblackholed connection (a TCP proxy drops every byte; default client settings)")
    print(f"  noticed after {noticed:.2f} s, streaming again after {back:.2f} s; "
          f"seconds of audio lost {lost}, doubled {doubled} (of 20)")  # fmt: skip


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--item", default="pub_commonvoice_session_01")
    parser.add_argument("--skip-provider", action="store_true")
    parser.add_argument("--skip-disk", action="store_true")
    args = parser.parse_args()
    item = next(i for i in load_items() if i.id == args.item)
    workdir = ROOT / "bench" / "out" / "faults"
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"server crash: {item.id} ({item.duration:.1f} s), real time, SIGKILL twice")
    clean = crash_run(item.audio, [], workdir)
    faulted = crash_run(item.audio, [(10.0, 4.0), (26.0, 5.0)], workdir)
    import jiwer

    ref = normalise(item.text_norm)
    for name, run in (("no faults", clean), ("2 kills", faulted)):
        wer = jiwer.wer(ref, normalise(run.text)) * 100
        print(f"  {name:<10} WER {wer:5.2f} %  exit {run.returncode}")
    print(f"  words lost vs clean run: {words_lost(ref, clean.text, faulted.text)}, "
          f"doubled: {words_doubled(ref, clean.text, faulted.text)} "
          "(deletions / insertions against the reference, beyond the clean run's)")  # fmt: skip
    for i, (down, recover) in enumerate(zip(faulted.down_s, faulted.recover_s, strict=False)):
        print(f"  outage {i + 1}: server down {down:.1f} s; captions again {recover:.2f} s "
              "after it listened")  # fmt: skip
    print(f"  stream offsets the servers saw: {faulted.stream_offsets}")
    print(f"  server-side stream time at the end: {faulted.stream_end} s "
          f"(audio sent {item.duration:.2f} s)")  # fmt: skip
    print("  " + faulted.stderr.strip().splitlines()[-1])
    blackhole()
    if not args.skip_provider:
        provider_faults()
    if not args.skip_disk:
        from full_disk import full_disk

        full_disk(args.item)


if __name__ == "__main__":
    main()
