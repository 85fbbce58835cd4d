"""The sound server's echo canceller for Both mode, without a sound server: the load-module
arguments, reading pactl's listings, and the routing done and undone, against a pactl double
that keeps sinks, streams and modules as the server would."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest

from app.audio import devices, echo_cancel
from app.audio.both import BothSource
from app.audio.capture import DeviceSource
from app.audio.devices import CaptureDevice, PactlError
from app.audio.echo_cancel import (
    GUARD_ONLY,
    LoadedModule,
    SinkInput,
    engage,
    parse_default_sink,
    parse_module_arguments,
    parse_modules,
    parse_sink_inputs,
    plan_for,
    plan_of,
    remove_stale,
)

MIC = "alsa_input.usb-Headset-00.mono-fallback"
SPEAKERS = "alsa_output.pci-0000_00_1f.3.analog-stereo"

# PulseAudio 16.1, `pactl list short modules` with one of ours loaded (tabs, a trailing one).
MODULES = (
    "0\tmodule-native-protocol-unix\tsocket=/tmp/va/native auth-anonymous=1\t\n"
    "1\tmodule-null-sink\tsink_name=meeting rate=48000 channels=2 "
    "sink_properties=device.description=Meeting_Output\t\n"
    '9\tmodule-echo-cancel\tsource_master="virtmic" sink_master="meeting" aec_method=webrtc '
    'aec_args="analog_gain_control=0 extended_filter=1" '
    "source_name=captionist_echo_cancel_77_2_source "
    "sink_name=captionist_echo_cancel_77_2_sink "
    "source_properties=\"device.description='Captionist echo-cancelled microphone'\"\t\n"
    "10\tmodule-echo-cancel\tsource_master=virtmic sink_master=meeting\t\n"
)

# `LC_ALL=C pactl list sink-inputs`, shortened: an app (paplay), the canceller's own stream
# (PulseAudio: no client), and a module's stream as pipewire-pulse lists it.
SINK_INPUTS = """Sink Input #6
\tDriver: protocol-native.c
\tOwner Module: 0
\tClient: 35
\tSink: 0
\tProperties:
\t\tapplication.name = "paplay"
\t\tapplication.process.id = "25658"

Sink Input #7
\tDriver: module-echo-cancel.c
\tOwner Module: 9
\tClient: n/a
\tSink: 0
\tProperties:
\t\tmedia.name = "Echo-Cancel Sink Stream"

Sink Input #81
\tDriver: PipeWire
\tOwner Module: 4294967295
\tClient: 41
\tSink: 0
\tProperties:
\t\tnode.name = "output.echo-cancel"
\t\tpulse.module.id = "536870915"
"""


def test_the_load_arguments_name_the_masters_the_webrtc_canceller_and_ours() -> None:
    plan = plan_for(MIC, f"{SPEAKERS}.monitor", 4242, 3)
    assert plan is not None
    assert plan.speakers == SPEAKERS
    assert plan.source_name == "captionist_echo_cancel_4242_3_source"
    assert plan.sink_name == "captionist_echo_cancel_4242_3_sink"
    assert plan.owner_pid == 4242
    arguments = plan.load_arguments()
    assert arguments[:2] == ("load-module", "module-echo-cancel")
    assert f'source_master="{MIC}"' in arguments
    assert f'sink_master="{SPEAKERS}"' in arguments
    assert "aec_method=webrtc" in arguments
    # pactl joins them with spaces; the server reads them back as these values.
    parsed = parse_module_arguments(" ".join(arguments[2:]))
    assert parsed["aec_args"].split() == [
        "analog_gain_control=0",
        "digital_gain_control=0",
        "noise_suppression=0",
        "extended_filter=1",
    ]
    assert (
        parsed["source_properties"] == "device.description='Captionist echo-cancelled microphone'"
    )
    assert plan_of(LoadedModule(5, "module-echo-cancel", parsed)) == plan


@pytest.mark.parametrize(
    ("microphone", "system"),
    [(MIC, SPEAKERS), (MIC, "bluez_input.headset"), ('my "mic"', f"{SPEAKERS}.monitor")],
)
def test_no_canceller_when_the_system_audio_is_no_monitor_or_a_name_cannot_be_quoted(
    microphone: str, system: str
) -> None:
    assert plan_for(microphone, system, 1, 1) is None


def test_the_module_listing_is_read_and_only_our_modules_are_ours() -> None:
    modules = parse_modules(MODULES)
    assert [(m.index, m.name) for m in modules] == [
        (0, "module-native-protocol-unix"),
        (1, "module-null-sink"),
        (9, "module-echo-cancel"),
        (10, "module-echo-cancel"),
    ]
    assert modules[2].arguments["aec_args"] == "analog_gain_control=0 extended_filter=1"
    assert modules[1].arguments["sink_properties"] == "device.description=Meeting_Output"
    ours = [plan_of(m) for m in modules]
    assert ours[:2] == [None, None] and ours[3] is None  # someone else's canceller
    assert ours[2] is not None
    assert (ours[2].microphone, ours[2].speakers, ours[2].owner_pid) == ("virtmic", "meeting", 77)


def test_apps_streams_are_told_from_the_streams_modules_make() -> None:
    assert parse_sink_inputs(SINK_INPUTS) == [
        SinkInput(6, 0, True),
        SinkInput(7, 0, False),
        SinkInput(81, 0, False),
    ]


def test_the_default_sink_is_read_from_pactl_info() -> None:
    info = "Server Name: pulseaudio\nDefault Sink: meeting\nDefault Source: virtmic\n"
    assert parse_default_sink(info) == "meeting"
    assert parse_default_sink("Server Name: x\n") == ""


@dataclass
class FakeSoundServer:
    """pactl's answers from a sound server's state: sinks, the default, streams, modules."""

    sinks: list[str] = field(default_factory=lambda: [SPEAKERS, "hdmi"])
    default: str = SPEAKERS
    streams: dict[int, tuple[str, bool]] = field(default_factory=dict)  # index: sink, app
    modules: dict[int, str] = field(default_factory=dict)  # index: arguments
    refuse: str = ""  # the pactl command that fails, if any
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, *args: str) -> str:
        self.calls.append(args)
        if self.refuse and " ".join(args).startswith(self.refuse):
            raise PactlError(f"pactl failed: {self.refuse} refused")
        match args:
            case ("list", "short", "modules"):
                rows = (f"{i}\tmodule-echo-cancel\t{a}\t" for i, a in self.modules.items())
                return "\n".join(rows) + "\n"
            case ("load-module", "module-echo-cancel", *rest):
                index = 100 + len(self.calls)
                self.modules[index] = " ".join(rest)
                arguments = parse_module_arguments(" ".join(rest))
                self.sinks.append(arguments["sink_name"])
                return f"{index}\n"
            case ("unload-module", index):
                arguments = parse_module_arguments(self.modules.pop(int(index)))
                self.sinks.remove(arguments["sink_name"])
                if self.default == arguments["sink_name"]:
                    # The server's own pick, not necessarily the one it was before.
                    self.default = "hdmi" if "hdmi" in self.sinks else self.sinks[0]
                return ""
            case ("info",):
                return f"Server Name: pulseaudio\nDefault Sink: {self.default}\n"
            case ("set-default-sink", name):
                self.default = name
                return ""
            case ("list", "short", "sinks"):
                return "".join(f"{i}\t{name}\tmodule-x.c\n" for i, name in enumerate(self.sinks))
            case ("list", "sink-inputs"):
                return "\n".join(
                    f"Sink Input #{i}\n\tClient: {'12' if app else 'n/a'}\n"
                    f"\tSink: {self.sinks.index(sink)}\n"
                    for i, (sink, app) in self.streams.items()
                )
            case ("move-sink-input", index, sink):
                self.streams[int(index)] = (sink, self.streams[int(index)][1])
                return ""
        raise AssertionError(f"unexpected pactl {args}")


def test_engaging_routes_the_speakers_apps_through_the_canceller_and_disengaging_undoes_it() -> (
    None
):
    server = FakeSoundServer(streams={1: (SPEAKERS, True), 2: ("hdmi", True), 3: (SPEAKERS, False)})
    canceller = engage(MIC, f"{SPEAKERS}.monitor", server, alive=lambda pid: True)
    assert canceller is not None
    ours = canceller.plan.sink_name
    assert ours.startswith(f"captionist_echo_cancel_{os.getpid()}_")
    assert server.default == ours  # a call started later plays through it too
    assert server.streams == {1: (ours, True), 2: ("hdmi", True), 3: (SPEAKERS, False)}
    canceller.disengage()
    assert server.default == SPEAKERS
    assert server.streams == {1: (SPEAKERS, True), 2: ("hdmi", True), 3: (SPEAKERS, False)}
    assert server.modules == {}
    calls = len(server.calls)
    canceller.disengage()
    assert len(server.calls) == calls, "disengaging twice does nothing more"


def test_the_default_output_is_left_alone_when_it_is_not_the_monitored_speakers() -> None:
    server = FakeSoundServer(default="hdmi")
    canceller = engage(MIC, f"{SPEAKERS}.monitor", server, alive=lambda pid: True)
    assert canceller is not None and server.default == "hdmi"
    canceller.disengage()
    assert server.default == "hdmi" and server.modules == {}


@pytest.mark.parametrize("refused", ["load-module", "list short modules"])
def test_a_refused_load_is_no_canceller_and_leaves_nothing(refused: str) -> None:
    server = FakeSoundServer(streams={1: (SPEAKERS, True)}, refuse=refused)
    assert engage(MIC, f"{SPEAKERS}.monitor", server) is None
    assert server.modules == {} and server.default == SPEAKERS
    assert server.streams == {1: (SPEAKERS, True)}
    assert not any(call[0] in ("set-default-sink", "move-sink-input") for call in server.calls)


def test_a_load_answered_with_no_module_number_is_no_canceller() -> None:
    def pactl(*args: str) -> str:  # as a pactl that prints nothing and exits 0
        return ""

    assert engage(MIC, f"{SPEAKERS}.monitor", pactl) is None


def test_a_canceller_that_cannot_be_routed_is_unloaded() -> None:
    server = FakeSoundServer(refuse="set-default-sink")
    assert engage(MIC, f"{SPEAKERS}.monitor", server, alive=lambda pid: True) is None
    assert server.modules == {}


def test_a_dead_captionists_canceller_is_removed_with_its_routing_and_a_live_ones_kept() -> None:
    dead = plan_for(MIC, f"{SPEAKERS}.monitor", 111, 1)
    live = plan_for(MIC, "hdmi.monitor", 222, 1)
    assert dead is not None and live is not None
    server = FakeSoundServer(
        sinks=[SPEAKERS, "hdmi", dead.sink_name, live.sink_name],
        default=dead.sink_name,
        streams={1: (dead.sink_name, True), 2: (live.sink_name, True)},
        modules={
            5: " ".join(dead.load_arguments()[2:]),
            6: " ".join(live.load_arguments()[2:]),
            7: "source_master=virtmic sink_master=meeting",  # not ours
        },
    )
    assert remove_stale(server, alive=lambda pid: pid == 222) == [5]
    assert server.default == SPEAKERS  # back on its speakers, not the server's pick
    assert server.streams == {1: (SPEAKERS, True), 2: (live.sink_name, True)}
    assert sorted(server.modules) == [6, 7]


def test_at_exit_every_canceller_of_this_process_is_unloaded() -> None:
    server = FakeSoundServer(streams={1: (SPEAKERS, True)})
    assert engage(MIC, f"{SPEAKERS}.monitor", server, alive=lambda pid: True) is not None
    echo_cancel._disengage_all()
    assert server.modules == {} and server.default == SPEAKERS
    assert server.streams == {1: (SPEAKERS, True)}


def test_both_mode_with_a_plain_microphone_says_the_guard_alone_cancels() -> None:
    mic = CaptureDevice("mic:x", "Microphone", "microphone", "x")
    system = CaptureDevice("system:default", "System audio", "system", "y.monitor")
    assert BothSource(DeviceSource(mic), DeviceSource(system)).echo_cancelling == GUARD_ONLY


def test_the_cancellers_own_devices_are_never_offered(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {
        ("list", "short", "sources"): (
            f"0\t{SPEAKERS}.monitor\tm.c\tx\tIDLE\n1\t{MIC}\tm.c\tx\tIDLE\n"
            "2\tcaptionist_echo_cancel_7_1_source\tm.c\tx\tIDLE\n"
            "3\tcaptionist_echo_cancel_7_1_sink.monitor\tm.c\tx\tIDLE\n"
        ),
        ("get-default-sink",): SPEAKERS,
        ("get-default-source",): MIC,
    }
    monkeypatch.setattr(devices, "pactl", lambda *args: answers[args])
    assert [d.pulse_source for d in devices.pulse_devices()] == [MIC, f"{SPEAKERS}.monitor"]


def test_looking_for_stale_cancellers_at_app_start_never_fails() -> None:
    server = FakeSoundServer(refuse="list short modules")
    echo_cancel.remove_stale_quietly(server)
    assert server.calls == [("list", "short", "modules")]
