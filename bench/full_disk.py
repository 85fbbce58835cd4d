"""Full-disk figures: the desktop app keeps captioning when its autosave disk fills.

    python bench/full_disk.py [--item pub_commonvoice_session_01]   (root: it mounts a disk)

The real app (`captionist gui --file CLIP`, offscreen Qt, the embedded tiny.en server) captions
an eval clip as if live, with its data folder on a small ext4 file system (a loop-mounted image
with 1 KiB blocks, so a full disk refuses the next journal line within a few). Run 1: the disk
is filled (a filler file takes every free block) a third of the way in and stays full until Quit
(SIGTERM). Run 2: the same, but the filler is deleted two thirds of the way in. Printed for
each: whether the Autosave warning was shown, the journal lines on disk when the disk filled and
at the end (all readable, none torn), how long Quit took and its exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from evalset import load_items  # noqa: E402

from app.services.journal import read_journal  # noqa: E402

DISK_BYTES = 4 * 1024 * 1024  # room for settings and journals, not for much more


@dataclass
class DiskRun:
    lines_when_full: int
    lines_at_end: int
    lines_before_fill_kept: bool
    torn: bool
    warned: bool
    resumed: bool
    quit_s: float
    exit_code: int | None


def fill(folder: Path) -> Path:
    """Take every free block of the file system `folder` is on."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (65536, 4096, 1):  # down to the last byte
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    return filler


def journal_lines(data: Path) -> list[str]:
    files = sorted((data / "sessions").glob("*.jsonl"))
    return files[-1].read_text(errors="replace").splitlines() if files else []


def app_run(clip: Path, duration: float, *, free_at: float | None) -> DiskRun:
    with tempfile.TemporaryDirectory() as mount_point, tempfile.TemporaryDirectory() as logs:
        data = Path(mount_point)
        image = Path(logs) / "disk.img"
        with image.open("wb") as out:
            out.truncate(DISK_BYTES)
        subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "1024", "-m", "0", str(image)], check=True)
        subprocess.run(["mount", "-o", "loop", str(image), str(data)], check=True)
        try:
            env = {
                **os.environ,
                "QT_QPA_PLATFORM": "offscreen",
                "CAPTIONIST_DATA_DIR": str(data),
                "CAPTIONIST_LOG_DIR": logs,
                "CAPTIONIST_NO_DIALOGS": "1",
                "XDG_CONFIG_HOME": logs,  # settings elsewhere: only the journal fills
            }
            log = Path(logs) / "stderr.log"
            app = subprocess.Popen(
                [sys.executable, "-m", "app", "--log-level", "INFO", "gui", "--file", str(clip)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log.open("w"),  # not a pipe: a chatty app must never block on it
            )
            deadline = time.monotonic() + 120
            while not journal_lines(data) and time.monotonic() < deadline:
                time.sleep(0.2)  # the model loads, then the first final is journaled
            started = time.monotonic()
            time.sleep(duration / 3)
            before = journal_lines(data)
            filler = fill(data)
            if free_at is not None:
                time.sleep(max(0.0, started + duration * free_at - time.monotonic()))
                filler.unlink()
            time.sleep(max(0.0, started + duration + 5 - time.monotonic()))
            quit_from = time.monotonic()
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()
            quit_s = time.monotonic() - quit_from
            err = log.read_text(errors="replace")
            after = journal_lines(data)
            files = sorted((data / "sessions").glob("*.jsonl"))
            torn = bool(after) and not files[-1].read_bytes().endswith(b"\n")
            readable = len(read_journal(files[-1])) == len(after) if files else False
            return DiskRun(
                lines_when_full=len(before),
                lines_at_end=len(after),
                lines_before_fill_kept=after[: len(before)] == before and readable,
                torn=torn,
                warned="server warning AUTOSAVE_FAILED" in err,
                resumed="server warning AUTOSAVE_RESUMED" in err,
                quit_s=quit_s,
                exit_code=app.returncode,
            )
        finally:
            subprocess.run(["umount", "-l", str(data)], check=False)


def full_disk(item_id: str) -> None:
    item = next(i for i in load_items() if i.id == item_id)
    print(f"full disk: the app captions {item.id} ({item.duration:.1f} s) with its data on a "
          f"{DISK_BYTES // 1024} KiB ext4 disk, filled a third of the way in")  # fmt: skip
    for name, free_at in (("stays full", None), ("space returns", 2 / 3)):
        run = app_run(item.audio, item.duration, free_at=free_at)
        print(
            f"  {name:<13} warning shown {'yes' if run.warned else 'NO'}, "
            f"resumed {'yes' if run.resumed else 'no'}; journal lines {run.lines_when_full} "
            f"when full -> {run.lines_at_end} at quit (earlier lines intact: "
            f"{'yes' if run.lines_before_fill_kept else 'NO'}, torn line: "
            f"{'YES' if run.torn else 'no'}); quit {run.quit_s:.1f} s, exit {run.exit_code}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--item", default="pub_commonvoice_session_01")
    full_disk(parser.parse_args().item)


if __name__ == "__main__":
    main()
