"""A stand-in for EADM_TASK_COMMAND: prints a recorded PowerShell output the way the real
command would, or misbehaves on purpose (hangs, floods, fails).

    python -m tests.doubles.task_command FIXTURE [--stderr FILE] [--exit N] [--count FILE]
    python -m tests.doubles.task_command --hang | --flood BYTES | --text TEXT
A FIXTURE that names a file holding a path (ending in .path) prints the file that path names,
so a test can switch what the command prints while the bot runs. Arguments from the first in
PowerShell's style (`-TaskName ...`) on are the script's, as the bot fills them in: `--count
FILE` adds them as a line to FILE at every run, so a test can count the runs and see what they
were given.
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
    parser.add_argument("--count")
    argv = sys.argv[1:]
    scripts = (n for n, arg in enumerate(argv) if arg[:1] == "-" and arg[1:2].isupper())
    mine = next(scripts, len(argv))
    args, given = parser.parse_args(argv[:mine]), argv[mine:]
    if args.count:
        with open(args.count, "a", encoding="utf-8") as runs:
            runs.write(" ".join(given) + "\n")
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
