"""`threadlog schema`: write the generated contract (JSON Schemas, AsyncAPI) into schemas/."""

import argparse
import sys
from pathlib import Path

from events.contract import contract_files
from threadlog.export.personal_document import personal_export_files

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "schemas"


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `schema` to the `threadlog` parser."""
    schema = commands.add_parser(
        "schema", help="write the JSON Schema of each event and the AsyncAPI document"
    )
    schema.add_argument("--out", type=Path, default=DEFAULT_DIR, help="default: schemas/")
    schema.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file is out of date"
    )


def _files() -> dict[str, str]:
    return contract_files() | personal_export_files()


def stale_files(out: Path) -> list[str]:
    """The generated files missing from `out` or differing from what the code generates."""
    return [
        name
        for name, text in _files().items()
        if not (out / name).is_file() or (out / name).read_text() != text
    ]


def run(args: argparse.Namespace) -> None:
    """Write (or with --check, compare) every generated file; old versions' files stay."""
    out: Path = args.out
    stale = stale_files(out)
    if args.check:
        if stale:
            sys.exit(f"out of date in {out}: {', '.join(stale)}; run `threadlog schema`")
        print(f"{out}: up to date")
        return
    for name, text in _files().items():
        if name in stale:
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_text(text)
    print(f"{out}: {len(stale)} file(s) written" + (f": {', '.join(stale)}" if stale else ""))
