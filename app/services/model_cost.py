"""What the CPU probe measured for the better model on this computer, told beside the choice.

The probe (`app.server.engines.auto`) keeps its figure per computer; Settings reads it so that
a user who forces Better where it cannot keep up is told so before the next Start.
"""

from __future__ import annotations

from app.server.engines import DEFAULT_THREADS
from app.server.engines.auto import BETTER, KEEPS_UP
from app.server.engines.probe_cache import ProbeCache, this_computer


def better_cost(cache: ProbeCache | None = None, threads: int = DEFAULT_THREADS) -> float | None:
    """Seconds of work per second of speech the better model needed here (None: never
    measured). Reads /proc/cpuinfo (or asks sysctl): call it off the UI thread."""
    return (cache or ProbeCache()).get(this_computer(BETTER, threads))


def cost_note(model: str, figure: float | None) -> str:
    """What to say beside the Accuracy choice `model`, given `better_cost()`."""
    if model != BETTER or figure is None or figure <= KEEPS_UP:
        return ""
    return (
        f"This computer needs {figure:.2f} s of work per second of speech with Better (it keeps "
        f"up at {KEEPS_UP:.2f} or less): captions will come late, and in a long talk further "
        "and further behind. Auto would caption with Fast here."
    )
