"""Literal strings a regex cannot match without, so a pattern runs only when one is present.

Running every pattern over every message would cost more than the whole keyword scan; the
Aho-Corasick pre-filter looks for these anchors instead and runs a pattern only on a hit.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# The standard library's own regex parser; the public `re` API does not expose the parse tree.
from re import _parser as sre_parse  # type: ignore[attr-defined]

_LITERAL = sre_parse.LITERAL
_SUBPATTERN = sre_parse.SUBPATTERN
_BRANCH = sre_parse.BRANCH
_IN = sre_parse.IN
_REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT)


Cost = Callable[[str], float]


def required_literals(pattern: re.Pattern[str], cost: Cost) -> frozenset[str] | None:
    """A set of strings at least one of which occurs in every match, or None if unknown.

    Where several sets would do, the one with the lowest total `cost` wins: cost is how often
    a string is expected in chat, so the pattern runs on as few messages as possible.
    """
    if pattern.flags & re.IGNORECASE:
        return None
    return _sequence(list(sre_parse.parse(pattern.pattern)), cost)


def _sequence(items: list[tuple[object, object]], cost: Cost) -> frozenset[str] | None:
    options: list[frozenset[str]] = []
    run = ""
    for op, arg in items:
        if op is _LITERAL:
            run += chr(arg)  # type: ignore[arg-type]
            continue
        if run:
            options.append(frozenset({run}))
            run = ""
        found = _item(op, arg, cost)
        if found:
            options.append(found)
    if run:
        options.append(frozenset({run}))
    if not options:
        return None
    return min(options, key=lambda option: sum(map(cost, option)))


def _item(op: object, arg: object, cost: Cost) -> frozenset[str] | None:
    if op is _SUBPATTERN:
        return _sequence(list(arg[-1]), cost)  # type: ignore[index]
    if op is _BRANCH:
        alternatives = [_sequence(list(branch), cost) for branch in arg[1]]  # type: ignore[index]
        if any(alternative is None for alternative in alternatives):
            return None
        return frozenset().union(*alternatives)  # type: ignore[arg-type]
    if op is _IN:
        chars = [member for member in arg]  # type: ignore[attr-defined]
        if all(kind is _LITERAL for kind, _ in chars):
            return frozenset(chr(code) for _, code in chars)
        return None
    if op in _REPEATS and arg[0] >= 1:  # type: ignore[index]
        return _sequence(list(arg[2]), cost)  # type: ignore[index]
    return None
