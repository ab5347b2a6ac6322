"""Small helpers for SQL text: identifiers, statement splitting, template variables."""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")
_TEMPLATE_VARIABLE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def check_identifier(name: str) -> str:
    """Refuse table names that would need quoting: they are spliced into SQL text."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain table name: {name!r}")
    return name


def split_statements(text: str) -> list[str]:
    """Statements of a migration file: split on ';' at line end, '--' comment lines dropped."""
    statements: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statement = "\n".join(current).strip().rstrip(";").strip()
            if statement:
                statements.append(statement)
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return statements


def fill_template(text: str, variables: dict[str, str]) -> str:
    """Replace `{name}` with its value; `{name:Type}` query parameters are left alone.

    An unknown variable is an error rather than SQL that fails later with a cryptic message.
    """

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            raise KeyError(name)
        return variables[name]

    return _TEMPLATE_VARIABLE.sub(substitute, text)


def literal(value: str | int) -> str:
    """A ClickHouse literal for an id: integers as they are, strings quoted and escaped.

    For long IN lists, which some HTTP front ends cannot take as query parameters."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
