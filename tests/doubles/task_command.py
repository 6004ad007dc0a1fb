"""A stand-in for EADM_TASK_COMMAND: prints a recorded PowerShell output the way the real
command would, or misbehaves on purpose (hangs, floods, fails).

    python -m tests.doubles.task_command FIXTURE [--stderr FILE] [--exit N]
    python -m tests.doubles.task_command --hang | --flood BYTES | --text TEXT
A FIXTURE that names a file holding a path (ending in .path) prints the file that path names,
so a test can switch what the command prints while the bot runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("fixture", nargs="?")
    parser.add_argument("--stderr")
    parser.add_argument("--exit", type=int, default=0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--flood", type=int, default=0)
    parser.add_argument("--text")
    args = parser.parse_args()
    if args.hang:
        time.sleep(3600)
    if args.flood:
        chunk = b"[" + b"0," * 32768
        written = 0
        while written < args.flood:
            sys.stdout.buffer.write(chunk)
            written += len(chunk)
        sys.stdout.flush()
    if args.text is not None:
        sys.stdout.write(args.text)
    if args.fixture:
        path = Path(args.fixture)
        if path.suffix == ".path":
            path = Path(path.read_text().strip())
        sys.stdout.buffer.write(path.read_bytes())
    if args.stderr:
        sys.stderr.buffer.write(Path(args.stderr).read_bytes())
    return args.exit


if __name__ == "__main__":
    sys.exit(main())
