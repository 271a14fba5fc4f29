"""Run the whole suite on SQLite and on PostgreSQL side by side (the two cores of a CI machine),
printing a progress line every PROGRESS_SECONDS while they run and each run's full output when it
has finished. Exits non-zero if either run failed. `make test` calls it.

    .venv/bin/python -m tests.run [extra pytest arguments]
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASES = ("sqlite", "postgresql")
PROGRESS_SECONDS = float(os.environ.get("PROGRESS_SECONDS", "30"))
_PERCENT = re.compile(r"\[\s*(\d+)%\]")


def _progress(log: Path) -> str:
    """How far a run is, from pytest's own "[ 42%]" marks and the F/E letters before them."""
    text = log.read_text(errors="replace") if log.exists() else ""
    marks = _PERCENT.findall(text)
    failed = sum(line.count("F") + line.count("E") for line in text.splitlines()
                 if _PERCENT.search(line))
    done = f"{marks[-1]}%" if marks else "starting"
    return done + (f", {failed} failed" if failed else "")


def main(extra: list[str]) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        logs = {db: Path(folder) / f"{db}.log" for db in DATABASES}
        runs = {}
        for db in DATABASES:
            handle = logs[db].open("w")
            runs[db] = (subprocess.Popen(  # noqa: S603 - our own interpreter and pytest
                [sys.executable, "-m", "pytest", "--db", db, "-q", *extra],
                stdout=handle, stderr=subprocess.STDOUT,
            ), handle)
        pending = set(DATABASES)
        shown = set()
        while pending:
            time.sleep(1)
            for db in list(pending):
                if runs[db][0].poll() is not None:
                    pending.discard(db)
            elapsed = time.monotonic() - started
            for db in DATABASES:
                if db not in pending and db not in shown:
                    runs[db][1].close()
                    print(f"\n===== {db}: finished after {elapsed:.0f} s =====", flush=True)
                    print(logs[db].read_text(errors="replace"), flush=True)
                    shown.add(db)
            if pending and int(elapsed) % int(PROGRESS_SECONDS) == 0:
                status = " | ".join(f"{db}: {_progress(logs[db])}" for db in sorted(pending))
                print(f"[{elapsed:5.0f} s] {status}", flush=True)
        codes = {db: runs[db][0].returncode for db in DATABASES}
    print(" ".join(f"{db}: {'passed' if code == 0 else f'FAILED (exit {code})'}"
                   for db, code in codes.items()), flush=True)
    return 0 if all(code == 0 for code in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
