"""Compact page identity printed in the QR code and as text: no patient data in it.

A page id is eight Crockford base-32 symbols (40 bits) and two check symbols, written
in groups for people: ``K3QX-9M2A-7C``. The QR code carries ``PM1:`` and the page id,
all in QR alphanumeric mode so the code stays small (version 1).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from datetime import datetime
from typing import Any

from papermode.core.errors import PageIdError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
QR_PREFIX = "PM1:"
_BODY = 8
_CHECK = 2
_PATTERN = re.compile(r"^[0-9A-Z]{4}-?[0-9A-Z]{4}-?[0-9A-Z]{2}$")
# Misreadings Crockford base 32 forgives, applied to OCR and typed ids.
_SUBSTITUTES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _encode(number: int, length: int) -> str:
    symbols = []
    for _ in range(length):
        number, digit = divmod(number, 32)
        symbols.append(ALPHABET[digit])
    return "".join(reversed(symbols))


def _check_symbols(body: str) -> str:
    digest = hashlib.sha256(("papermode-page:" + body).encode("ascii")).digest()
    return _encode(int.from_bytes(digest[:2], "big") >> 6, _CHECK)


def new_page_id(seed: str) -> str:
    """The page id derived from `seed` (deterministic: same seed, same id)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    body = _encode(int.from_bytes(digest[:5], "big"), _BODY)
    return _format(body + _check_symbols(body))


def layout_digest(
    template: str,
    template_version: str,
    size_mm: tuple[float, float],
    fields: Iterable[object],
    drawings: Iterable[object] = (),
) -> str:
    """A hash of everything a page's paper means: template and version, paper size, every
    field (id, kind, box, cells, role, order, scheduled time, option...) and every printed
    text and line, in order.

    It goes into the page-id seed, so a page id names one exact layout forever: a print
    run that changes anything on a page (other --hours, settings, language, template)
    gets new ids, and old paper is still read against the layout it was printed with.
    Floats are rounded to 0.01 mm so the digest does not depend on the last bit of a sum.
    """
    digest = hashlib.sha256()
    head = (template, template_version, _canonical(size_mm[0]), _canonical(size_mm[1]))
    digest.update(repr(head).encode("utf-8"))
    for item in (*fields, "\x1d", *drawings):
        digest.update(_canonical_shared(item))
        digest.update(b"\x1e")
    return digest.hexdigest()[:32]


# The canonical bytes of the fields and drawings hashed lately, by object identity: the
# banner of a patient, the signature legend and the frame are the very same objects on
# many pages. Each entry keeps its object alive, so an id is never reused while cached.
_SHARED: dict[int, tuple[object, bytes]] = {}
_SHARED_MAX = 200_000


def _canonical_shared(item: object) -> bytes:
    known = _SHARED.get(id(item))
    if known is not None and known[0] is item:
        return known[1]
    text = _canonical(item).encode("utf-8")
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.clear()
    _SHARED[id(item)] = (item, text)
    return text


def _canonical(value: object) -> str:
    """The text the layout digest hashes for `value`.

    The common exact types (str, int, float, None, tuple, list, and dataclasses through a
    function made once per class) take a fast path: a 5,000-page print run hashes about
    six million values. Anything else (enums, subclasses, dates) takes the general rules
    in `_canonical_general`. Both give the same text: page ids must never change with it.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return repr(value)
    if kind is float:
        return f"{value:.2f}"
    if kind is tuple or kind is list:
        return "(" + ",".join([_canonical(v) for v in value]) + ")"  # type: ignore[attr-defined]
    write = _DATACLASS_WRITERS.get(kind)
    if write is not None:
        return write(value)
    return _canonical_general(value)


_DATACLASS_WRITERS: dict[type, Callable[[object], str]] = {}


def _dataclass_writer(kind: type) -> Callable[[object], str]:
    """`Name(a=<a>,b=<b>)` for instances of the dataclass `kind`, field by field in order."""
    # Generated once per class, as `dataclasses` itself makes __init__ and __repr__: one
    # f-string per class instead of a loop over fields for each of millions of values.
    names = [f.name for f in dataclass_fields(kind)]
    if not all(name.isidentifier() for name in names):
        raise TypeError(f"{kind.__name__} has a field name that is not an identifier")
    body = ",".join(f"{name}={{c(v.{name})}}" for name in names)
    source = f"def write(v):\n    return f'{kind.__name__}({body})'\n"
    namespace: dict[str, Any] = {"c": _canonical}
    exec(source, namespace)  # noqa: S102 - the text is made from the class's own field names
    write: Callable[[object], str] = namespace["write"]
    return write


def _canonical_general(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        write = _DATACLASS_WRITERS[type(value)] = _dataclass_writer(type(value))
        return write(value)
    if isinstance(value, tuple | list):
        return "(" + ",".join(_canonical(v) for v in value) + ")"
    return repr(value)


def _format(compact: str) -> str:
    return f"{compact[:4]}-{compact[4:8]}-{compact[8:]}"


def normalise(text: str) -> str:
    """Canonical page id from a typed, OCRed or QR text, checked; raises PageIdError."""
    candidate = text.strip().upper()
    if candidate.startswith(QR_PREFIX):
        candidate = candidate[len(QR_PREFIX) :]
    candidate = candidate.replace(" ", "").translate(_SUBSTITUTES)
    if not _PATTERN.match(candidate):
        raise PageIdError(
            f"{text.strip()!r} is not a papermode page id (expected like K3QX-9M2A-7C).",
            advice="Check the id printed at the bottom of the page and type it again.",
        )
    compact = candidate.replace("-", "")
    if (
        any(symbol not in ALPHABET for symbol in compact)
        or _check_symbols(compact[:_BODY]) != compact[_BODY:]
    ):
        raise PageIdError(
            f"{text.strip()!r} fails its check value: a symbol was misread or mistyped.",
            advice="Check the id printed at the bottom of the page and type it again.",
        )
    return _format(compact)


def is_valid(text: str) -> bool:
    try:
        normalise(text)
    except PageIdError:
        return False
    return True


def qr_text(page_id: str) -> str:
    """The exact text of the page's QR code."""
    return QR_PREFIX + page_id


def from_qr(text: str) -> str | None:
    """The page id in a decoded QR text, or None when it is not a papermode code."""
    stripped = text.strip().upper()
    if not stripped.startswith(QR_PREFIX):
        return None
    try:
        return normalise(stripped)
    except PageIdError:
        return None
