"""What a screen reader sees of Captionist, read over AT-SPI: run by test_accessibility.py with
the system Python (/usr/bin/python3, Debian's python3-pyatspi), inside the app's session bus.

    /usr/bin/python3 atspi_reader.py APP_NAME SECONDS

Prints JSON lines: {"event": {type, source_role, source_name, text}} for what the app
announces while it runs SECONDS (new captions), then {"node": {role, name, description, text,
depth}} for every object in the app's tree as it is then, then {"done": true}.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import pyatspi  # type: ignore[import-not-found]

EVENTS = (
    "object:announcement",
    "object:text-changed:insert",
    "object:children-changed:add",
)


def find_app(name: str, timeout_s: float) -> object | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for app in desktop:
            if app is not None and app.name.lower() == name.lower() and app.childCount:
                return app
        time.sleep(0.2)
    return None


def text_of(node: object) -> str:
    try:
        text = node.queryText()  # type: ignore[attr-defined]
    except NotImplementedError:
        return ""
    return str(text.getText(0, -1))


def walk(node: object, depth: int = 0) -> None:
    if node is None or depth > 40:
        return
    record = {
        "role": node.getRoleName(),  # type: ignore[attr-defined]
        "name": node.name,  # type: ignore[attr-defined]
        "description": node.description,  # type: ignore[attr-defined]
        "text": text_of(node)[:200],
        "depth": depth,
    }
    print(json.dumps({"node": record}), flush=True)
    for child in node:  # type: ignore[attr-defined]
        walk(child, depth + 1)


def main() -> int:
    app_name, seconds = sys.argv[1], float(sys.argv[2])
    app = find_app(app_name, 60)
    if app is None:
        print(json.dumps({"error": f"no application named {app_name} on the bus"}), flush=True)
        return 1

    def heard(event: object) -> None:
        source = event.source  # type: ignore[attr-defined]
        record = {
            "type": event.type,  # type: ignore[attr-defined]
            "source_role": source.getRoleName() if source else "",
            "source_name": source.name if source else "",
            "text": str(event.any_data or ""),  # type: ignore[attr-defined]
        }
        print(json.dumps({"event": record}), flush=True)

    for kind in EVENTS:
        pyatspi.Registry.registerEventListener(heard, kind)
    threading.Timer(seconds, pyatspi.Registry.stop).start()
    pyatspi.Registry.start()
    walk(app)
    print(json.dumps({"done": True}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
