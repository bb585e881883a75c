"""Which reading flags ask for a person: defined once, used by the reader and the merge.

A flag names something the machine noticed about a value. Almost every flag means "a person
must look" (a contradiction, a correction, a faint trace, a washed-out box, a missing
initial); a value carrying one of those is never auto-accepted, on its own capture or in the
merged page state. Unknown flags count as asking for a person: a new flag is safe by default.

The flags themselves are the members of `papermode.core.flags.Flag`; the only ones that do
not ask for a person are listed in `INFORMATIONAL_FLAGS`, each with the measurement that
justifies it (docs/readings.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from papermode.core.flags import Flag

# Purely informational flags, each justified:
# - `Flag.EMPTY`: a digits field with nothing written; it restates the value ("empty"),
#   whose own confidence decides (an empty comb read with low confidence is review anyway).
# Any other flag asks for a person. A flag may join this set only with its measured error
# rate among values that would otherwise be auto-accepted, written in docs/digits.md or
# docs/readings.md.
INFORMATIONAL_FLAGS: frozenset[str] = frozenset({Flag.EMPTY})


def asks_for_person(flags: Iterable[str]) -> bool:
    """True when any of `flags` means a person must look before the value is used."""
    return any(flag not in INFORMATIONAL_FLAGS for flag in flags)


def person_flags(flags: Iterable[str]) -> tuple[str, ...]:
    """The flags of `flags` that ask for a person, in order."""
    return tuple(flag for flag in flags if flag not in INFORMATIONAL_FLAGS)
