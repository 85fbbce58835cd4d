"""The sound server's echo canceller for the microphone of Both mode (Linux): PulseAudio's
`module-echo-cancel` with WebRTC's canceller, or PipeWire's through pipewire-pulse, which
takes the same `pactl load-module`.

Routing. The canceller removes from its source (the microphone, `source_master`) what was
played into *its* sink, which plays on into `sink_master` (the speakers, whose monitor is the
system audio). Audio that bypasses its sink is not cancelled. So for the session the apps
playing on the speakers are moved to the canceller's sink and it becomes the default output
(a call started later goes there too); the speakers still play everything, and the system
audio capture still reads their monitor. While it runs that output is mono (the canceller's
format). Stop, quit and the next start after a crash (the pid in the names is dead) put the
default output and those apps back on the speakers and unload the module.

Why not leave the routing alone and feed the canceller the speakers' monitor through a
loopback (a null sink as its master): measured on the virtual devices (a 100 ms echo at a
third of the amplitude), that took seconds to settle and cancelled 7 to 43 dB second by
second, against 33 to 49 dB from the first second with the call played into its sink; the
loopback's delay is unknown to the canceller, which aligns by its own sink's latency.

Everything here that runs pactl blocks: call it in a worker thread.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count

from app.audio.devices import OWN_DEVICE_PREFIX, PactlError, pactl

log = logging.getLogger(__name__)

SERVER_AEC = "sound server (WebRTC)"
GUARD_ONLY = "transcript guard only"
MODULE = "module-echo-cancel"
NAME_PREFIX = f"{OWN_DEVICE_PREFIX}echo_cancel_"
AEC_METHOD = "webrtc"
# Analog gain control turns the microphone's volume down and leaves it there (measured: 100 %
# to 33 %); noise suppression is not needed for recognition and alters the voice; the extended
# filter reaches echoes 100 ms late (measured: 14 dB cancelled without it, 38 dB with it).
AEC_ARGS = "analog_gain_control=0 digital_gain_control=0 noise_suppression=0 extended_filter=1"

Pactl = Callable[..., str]  # runs pactl with these arguments: its output, or PactlError
_NAME = re.compile(rf"^{NAME_PREFIX}(\d+)_\d+_(?:source|sink)$")
_ARGUMENT = re.compile(r"""([\w.-]+)=(?:"([^"]*)"|'([^']*)'|(\S*))""")
_serials = count(1)  # names stay unique when one process runs several sessions


@dataclass(frozen=True)
class EchoCancelPlan:
    microphone: str  # the source to clean: source_master
    speakers: str  # the sink whose monitor is the system audio: sink_master
    source_name: str
    sink_name: str

    def load_arguments(self) -> tuple[str, ...]:
        # pactl joins its arguments with spaces; the server's parser takes quoted values.
        return (
            "load-module",
            MODULE,
            f'source_master="{self.microphone}"',
            f'sink_master="{self.speakers}"',
            f"aec_method={AEC_METHOD}",
            f'aec_args="{AEC_ARGS}"',
            f"source_name={self.source_name}",
            f"sink_name={self.sink_name}",
            "source_properties=\"device.description='Captionist echo-cancelled microphone'\"",
            "sink_properties=\"device.description='Captionist echo-cancelled output'\"",
        )

    @property
    def owner_pid(self) -> int | None:
        match = _NAME.match(self.source_name)
        return int(match[1]) if match else None


def plan_for(microphone: str, system: str, pid: int, serial: int) -> EchoCancelPlan | None:
    """The canceller for this microphone and system-audio source; None when the system audio
    is not a sink's monitor (no speakers to route) or a name could not be quoted."""
    if not system.endswith(".monitor") or any(q in microphone + system for q in "\"'\\"):
        return None
    base = f"{NAME_PREFIX}{pid}_{serial}"
    speakers = system.removesuffix(".monitor")
    return EchoCancelPlan(microphone, speakers, f"{base}_source", f"{base}_sink")


@dataclass(frozen=True)
class LoadedModule:
    index: int
    name: str
    arguments: dict[str, str]


def parse_module_arguments(text: str) -> dict[str, str]:
    """`key=value key="a value" key='a value'`, as the sound server lists a module's."""
    return {
        m[1]: next(v for v in m.groups()[1:] if v is not None) for m in _ARGUMENT.finditer(text)
    }


def parse_modules(listing: str) -> list[LoadedModule]:
    """`pactl list short modules`: index, name and arguments, tab-separated."""
    modules = []
    for line in listing.splitlines():
        fields = line.split("\t")
        if len(fields) >= 2 and fields[0].isdigit():
            arguments = parse_module_arguments(fields[2]) if len(fields) > 2 else {}
            modules.append(LoadedModule(int(fields[0]), fields[1], arguments))
    return modules


def plan_of(module: LoadedModule) -> EchoCancelPlan | None:
    """The plan a loaded module of ours was made from; None for anyone else's modules."""
    names = (module.arguments.get("source_name", ""), module.arguments.get("sink_name", ""))
    if module.name != MODULE or not all(_NAME.match(name) for name in names):
        return None
    microphone = module.arguments.get("source_master", "")
    return EchoCancelPlan(microphone, module.arguments.get("sink_master", ""), *names)


@dataclass(frozen=True)
class SinkInput:
    index: int
    sink: int
    from_app: bool  # an application's stream, not a module's (a filter's, a loopback's)


def parse_sink_inputs(listing: str) -> list[SinkInput]:
    """`LC_ALL=C pactl list sink-inputs`. A module's own stream has no client (PulseAudio) or
    says its module (pipewire-pulse: pulse.module.id); moving one could make a loop."""
    inputs = []
    for block in re.split(r"^Sink Input #", listing, flags=re.MULTILINE)[1:]:
        sink = re.search(r"^\s*Sink: (\d+)", block, re.MULTILINE)
        client = re.search(r"^\s*Client: (\S+)", block, re.MULTILINE)
        if not sink or not block.split(maxsplit=1)[0].isdigit():
            continue
        from_app = client is not None and client[1].isdigit() and "pulse.module.id" not in block
        inputs.append(SinkInput(int(block.split(maxsplit=1)[0]), int(sink[1]), from_app))
    return inputs


def parse_sink_indexes(listing: str) -> dict[str, int]:
    """`pactl list short sinks`: name to index."""
    fields = (line.split("\t") for line in listing.splitlines())
    return {f[1]: int(f[0]) for f in fields if len(f) >= 2 and f[0].isdigit()}


def parse_default_sink(info: str) -> str:
    """`LC_ALL=C pactl info` (every pactl has it; get-default-sink came with 15.0)."""
    match = re.search(r"^Default Sink: (.+)$", info, re.MULTILINE)
    return match[1].strip() if match else ""


def _move_apps(run: Pactl, from_sink: str, to_sink: str) -> None:
    sink = parse_sink_indexes(run("list", "short", "sinks")).get(from_sink)
    for stream in parse_sink_inputs(run("list", "sink-inputs")):
        if stream.sink == sink and stream.from_app:
            try:
                run("move-sink-input", str(stream.index), to_sink)
            except PactlError as exc:  # it may have ended meanwhile
                log.info("could not move sink input %d to %s: %s", stream.index, to_sink, exc)


def _undo(plan: EchoCancelPlan, module: int, run: Pactl) -> None:
    """Default output and apps back on the speakers, then the module unloaded; each step is
    tried whatever the one before did. Never raises: a stop must not fail on it."""

    def restore_default() -> None:
        if parse_default_sink(run("info")) == plan.sink_name:
            run("set-default-sink", plan.speakers)

    steps = (
        restore_default,
        lambda: _move_apps(run, plan.sink_name, plan.speakers),
        lambda: run("unload-module", str(module)),
    )
    for step in steps:
        try:
            step()
        except PactlError as exc:
            log.warning("echo canceller %s: %s", plan.sink_name, exc)


class EchoCanceller:
    """A loaded canceller and the routing it changed."""

    def __init__(self, plan: EchoCancelPlan, module: int, run: Pactl) -> None:
        self.plan = plan
        self.module = module
        self._run = run

    def route(self) -> None:
        """The apps on the speakers, and new ones (the default output), through its sink."""
        if parse_default_sink(self._run("info")) == self.plan.speakers:
            self._run("set-default-sink", self.plan.sink_name)
        _move_apps(self._run, self.plan.speakers, self.plan.sink_name)

    def disengage(self) -> None:
        """Put the routing back and unload; idempotent, never raises."""
        with _lock:  # no remove_stale meanwhile takes it for a leftover
            if _engaged.pop(self.module, None) is None:
                return
            _undo(self.plan, self.module, self._run)
        log.info("echo canceller %s unloaded", self.plan.sink_name)


# Held while modules are loaded, routed or unloaded: a search for leftovers (at app start, in a
# worker thread) must not take a module being loaded or unloaded here for one.
_lock = threading.Lock()
_engaged: dict[int, EchoCanceller] = {}  # module index: loaded by this process, in use


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_stale(run: Pactl = pactl, alive: Callable[[int], bool] = _alive) -> list[int]:
    """Unload the cancellers a Captionist that is gone left behind (killed, crashed, or a
    stop that failed here), routing first put back; returns their module indexes."""
    with _lock:
        return _remove_stale(run, alive)


def _remove_stale(run: Pactl, alive: Callable[[int], bool]) -> list[int]:
    removed = []
    for module in parse_modules(run("list", "short", "modules")):
        plan = plan_of(module)
        if plan is None or module.index in _engaged or plan.owner_pid is None:
            continue
        if plan.owner_pid != os.getpid() and alive(plan.owner_pid):
            continue  # another Captionist's, in use
        log.warning("removing the echo canceller %s left loaded", plan.sink_name)
        _undo(plan, module.index, run)
        removed.append(module.index)
    return removed


def remove_stale_quietly(run: Pactl = pactl) -> None:
    """`remove_stale` at app start (so a crash's routing is put back before any session);
    with no sound server or no pactl there is nothing to remove."""
    try:
        remove_stale(run)
    except PactlError as exc:
        log.info("no stale echo cancellers looked for: %s", exc)


def engage(
    microphone: str, system: str, run: Pactl = pactl, alive: Callable[[int], bool] = _alive
) -> EchoCanceller | None:
    """Load the canceller between this microphone and the speakers whose monitor `system` is,
    and route the speakers' apps through it. None (and nothing left loaded) when the sound
    server has no such module, refuses it, or pactl fails: the transcript guard remains."""
    plan = plan_for(microphone, system, os.getpid(), next(_serials))
    if plan is None:
        log.info("no echo cancelling for %s: not a sink's monitor", system)
        return None
    with _lock:
        try:
            _remove_stale(run, alive)
            answer = run(*plan.load_arguments()).strip()
            if not answer.isdigit():
                raise PactlError(f"load-module answered {answer!r}")
        except PactlError as exc:
            log.warning("no sound-server echo cancelling, the transcript guard only: %s", exc)
            return None
        canceller = EchoCanceller(plan, int(answer), run)
        _engaged[canceller.module] = canceller
    try:
        canceller.route()
    except PactlError as exc:
        log.warning("echo canceller loaded but not routed, so unloaded: %s", exc)
        canceller.disengage()
        return None
    log.info("echo canceller %s: %s -> %s", plan.sink_name, plan.microphone, plan.speakers)
    return canceller


@atexit.register
def _disengage_all() -> None:
    """At exit (quit, or a run that did not end in time): nothing of ours stays loaded."""
    for canceller in list(_engaged.values()):
        canceller.disengage()
