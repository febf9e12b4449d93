"""``python -m schemas export [--dir DIR]`` | ``python -m schemas check [--dir DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from schemas.export import EXPORT_COMMAND, JSON_DIR, export, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m schemas", description=__doc__)
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument("--dir", type=Path, default=JSON_DIR, help="default: schemas/json")
    args = parser.parse_args(argv)
    if args.command == "export":
        for path in export(args.dir):
            print(path)
        return 0
    problems = stale(args.dir)
    if problems:
        print(f"JSON Schemas in {args.dir} are stale: {', '.join(problems)}", file=sys.stderr)
        print(f"run: {EXPORT_COMMAND}", file=sys.stderr)
        return 1
    print(f"JSON Schemas in {args.dir} are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
