"""`salesradar` command line: one sub-command per module in pipeline/commands."""

from __future__ import annotations

import argparse
import importlib
import sys

from pipeline.settings import SettingsError

#: sub-command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("pipeline.commands.demo", "run a generated week through the embedded pipeline"),
    "run": ("pipeline.commands.run", "run your own files through the embedded pipeline"),
    "worker": ("pipeline.commands.worker", "long-running worker on the configured broker"),
    "replay": ("pipeline.commands.replay", "produce a file's records to a source's raw topic"),
    "migrate": ("pipeline.commands.migrate", "apply sql/ migrations to ClickHouse"),
    "sql": ("pipeline.commands.sql", "run a query against ClickHouse"),
    "tag": ("pipeline.commands.tag", "tag JSON lines on stdin, or evaluate the tagger"),
    "keywords": ("pipeline.commands.keywords", "suggest new taxonomy keywords from chats"),
    "normalize": ("pipeline.commands.normalize", "raw records to canonical events"),
    "dlq": ("pipeline.commands.dlq", "dead letters by reason; replay them after a fix"),
    "bench": ("pipeline.commands.bench", "benchmark: faust ceiling, pipeline rate, latency"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesradar",
        description="Measure the sales process behind the numbers: signals, waits, breaches.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(name, help=help_text, description=module.__doc__)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SettingsError as error:
        print(f"salesradar: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
