"""The command line reference (docs/cli.md): every command's usage, description, options and epilog, written from
the argument parsers themselves (`pgspec docs --cli FILE`, run by `make docs`), so it cannot drift from them.

The usage lines are argparse's at a fixed width (never the terminal's: COLUMNS does not change the file), and the
options are Markdown tables built from the parsers' actions, so the file does not depend on how a Python version
lays out `--help` (3.13 prints `-o, --output FILE` where 3.11 prints `-o FILE, --output FILE`).
"""

from __future__ import annotations

import argparse

WIDTH = 100  # the usage lines' width, as `--help` prints them in a terminal of 102 columns

HEADER = """\
# Command line reference

Every `pgspec` command's usage and options, as `pgspec COMMAND --help` prints them. This file is written from the
argument parsers by `make docs` (`pgspec docs --cli docs/cli.md`); do not edit it by hand: `make docs` refreshes
it, and tests/test_cli.py fails when it is stale.
"""


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, width=WIDTH)


def _cell(text: str) -> str:
    """`text` on one line, as one Markdown table cell (argparse joins a help text's whitespace too)."""
    return " ".join(text.split()).replace("|", "\\|")


def _paragraph(text: str | None) -> list[str]:
    return [" ".join(text.split()), ""] if text else []


def _usage(p: argparse.ArgumentParser) -> list[str]:
    formatter = _formatter(p.prog)
    formatter.add_usage(p.usage, p._actions, p._mutually_exclusive_groups)
    return ["```text", formatter.format_help().rstrip("\n"), "```", ""]


def _subcommands(p: argparse.ArgumentParser) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    return next((a for a in p._actions if isinstance(a, argparse._SubParsersAction)), None)


def _argument(action: argparse.Action, formatter: argparse.HelpFormatter) -> str:
    """How `--help` names the argument: `-o`, `--output FILE`; `--format {text,json,github}`; `[DIR]`."""
    if not action.option_strings:
        return f"`{formatter._format_args(action, action.dest)}`"
    args = formatter._format_args(action, action.dest.upper()) if action.nargs != 0 else ""
    *short, last = action.option_strings
    return ", ".join([*(f"`{s}`" for s in short), f"`{last} {args}`" if args else f"`{last}`"])


def _options(p: argparse.ArgumentParser) -> list[str]:
    formatter = _formatter(p.prog)
    rows = [f"| {_cell(_argument(a, formatter))} | {_cell(formatter._expand_help(a) if a.help else '')} |"
            for a in p._actions if a.help != argparse.SUPPRESS and not isinstance(a, argparse._SubParsersAction)]
    return ["| argument | what it does |", "|---|---|", *rows, ""]


def _anchor(prog: str) -> str:
    """The anchor GitHub gives the heading `## \\`PROG\\``."""
    return "#" + prog.replace(" ", "-")


def cli_markdown(p: argparse.ArgumentParser) -> str:
    """The reference of `p` (the whole command line, every command's options loaded) and its subcommands, in the
    order they were added."""
    lines = [HEADER, f"## `{p.prog}`", "", *_usage(p), *_paragraph(p.description), *_options(p)]
    sub = _subcommands(p)
    if sub is not None:
        helps = {a.dest: a.help or "" for a in sub._choices_actions}
        lines += ["| command | what it does |", "|---|---|",
                  *(f"| [`{name}`]({_anchor(command.prog)}) | {_cell(helps.get(name, ''))} |"
                    for name, command in sub.choices.items()), ""]
    lines += _paragraph(p.epilog)
    for command in (sub.choices.values() if sub is not None else ()):
        lines += [f"## `{command.prog}`", "", *_usage(command), *_paragraph(command.description),
                  *_options(command), *_paragraph(command.epilog)]
    return "\n".join(lines).rstrip("\n") + "\n"
