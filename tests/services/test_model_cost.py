"""What the probe measured for Better here, and what Settings says beside the choice."""

from __future__ import annotations

from pathlib import Path

from app.server.engines.auto import BETTER, KEEPS_UP
from app.server.engines.probe_cache import ProbeCache, this_computer
from app.services.model_cost import better_cost, cost_note


def test_the_figure_is_this_computers_for_the_better_model(tmp_path: Path) -> None:
    cache = ProbeCache(tmp_path / "auto-model.json")
    assert better_cost(cache, threads=2) is None  # never measured: nothing to say
    cache.put(this_computer("tiny.en", 2), 0.2)
    cache.put(this_computer(BETTER, 2), 1.3)
    assert better_cost(cache, threads=2) == 1.3
    assert better_cost(cache, threads=1) is None  # measured with other threads


def test_only_better_where_it_cannot_keep_up_gets_a_note() -> None:
    assert "1.30 s of work per second of speech" in cost_note(BETTER, 1.3)
    assert "Auto would caption with Fast" in cost_note(BETTER, 1.3)
    assert cost_note(BETTER, KEEPS_UP) == ""  # keeps up
    assert cost_note(BETTER, None) == ""
    assert cost_note("tiny.en", 1.3) == ""
    assert cost_note("auto", 1.3) == ""  # Auto steps down by itself
