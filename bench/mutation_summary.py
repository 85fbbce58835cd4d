"""Summarise a mutmut run: killed share overall and per module (what `make mutation` prints).

    mutmut results --all true | python bench/mutation_summary.py

Reads mutmut's result lines (`    app.protocol.pcm.x_encode_pcm__mutmut_3: survived`). A timeout
counts as killed: the mutant made the tests hang, which pytest-timeout turns into a failure.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable

# A mutant is `<module>.<mangled function>__mutmut_<n>`; the mangled name has no dot.
_LINE = re.compile(r"^\s*(?P<module>\S+)\.[^.\s]+__mutmut_\d+:\s*(?P<status>.+?)\s*$")
_CAUGHT = {"killed", "timeout", "caught by type check"}


def tally(lines: Iterable[str]) -> dict[str, Counter[str]]:
    """Status counts per module, from `mutmut results --all true` output."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        match = _LINE.match(line)
        if match:
            by_module[match["module"]][match["status"]] += 1
    return dict(by_module)


def _row(name: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    killed = sum(counts[s] for s in _CAUGHT)
    share = 100.0 * killed / total if total else 0.0
    others = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()) if s not in _CAUGHT and n)
    return f"{name:<34} killed {killed:>4} of {total:>4} ({share:5.1f} %)" + (
        f", {others}" if others else ""
    )


def report(by_module: dict[str, Counter[str]]) -> str:
    overall: Counter[str] = Counter()
    rows = []
    for module in sorted(by_module):
        overall.update(by_module[module])
        rows.append(_row(module, by_module[module]))
    rows.append(_row("all", overall))
    return "\n".join(rows)


def main() -> int:
    by_module = tally(sys.stdin)
    if not by_module:
        print("no mutmut results: run `mutmut run` first", file=sys.stderr)
        return 1
    print(report(by_module))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
