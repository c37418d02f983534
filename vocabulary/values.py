"""Turn raw vendor values into canonical ones, tolerating the dirt real systems hold.

Every function raises `ValueProblem` with a reason a person can act on; callers decide
whether that rejects the record or only empties the attribute. The rules live below config/
and mapping/ because both apply them: config/ to translation tables and defaults at load time,
mapping/ to every record it reads.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vocabulary.attributes import UNKNOWN_TIER, TicketStatus

MAX_TEXT_LENGTH = 2000  # longer text is cut: it ends up in field values, notes and logs
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LIST_SEPARATORS = re.compile(r"[,;\s]+")
_EPOCH_MILLIS_ABOVE = 100_000_000_000  # larger epoch numbers are milliseconds (after 1973)


class ValueProblem(ValueError):
    """A value that cannot become what the attribute holds; the message says why."""


def short(value: Any, limit: int = 60) -> str:
    """A value as an error message may show it: repr, cut to a readable length."""
    if isinstance(value, dict):
        return "an object"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | dict):
        return not value
    return False


def clean_text(value: str, max_length: int = MAX_TEXT_LENGTH) -> str:
    """NFC, no control characters except tab and newlines, at most `max_length` characters."""
    if value.isascii() and value.isprintable() and len(value) <= max_length:
        return value  # the common case, already clean
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value))
    return text if len(text) <= max_length else text[: max_length - 1] + "…"


def to_text(value: Any) -> str:
    if isinstance(value, str):
        return clean_text(value.strip())
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return to_datetime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise ValueProblem(f"found {short(value)}; expected text")


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueProblem(f"found {value}; expected a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueProblem(f"found {short(value)}; expected a whole number")


def to_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueProblem(f"found {value}; expected a number")
    number: float | None = None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace("_", ""))
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise ValueProblem(f"found {short(value)}; expected a number")
    return number


def to_datetime(value: Any) -> datetime:
    """UTC datetime from ISO 8601 text, epoch seconds or milliseconds, or a date (midnight UTC).

    Text without an offset is taken as UTC: the vendors we read all send UTC.
    """
    parsed: datetime | None = None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLIS_ABOVE else value
        try:
            parsed = datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            parsed = None
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
    if parsed is None:
        raise ValueProblem(f"found {short(value)}; expected a date and time (ISO 8601)")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueProblem(
            f"found {short(value)}; expected a date and time in a sane range"
        ) from None


def to_date(value: Any) -> date:
    if isinstance(value, datetime):
        return to_datetime(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise ValueProblem(f"found {short(value)}; expected a date (YYYY-MM-DD)") from None
    try:
        return to_datetime(value).date()
    except ValueProblem:
        raise ValueProblem(f"found {short(value)}; expected a date (YYYY-MM-DD)") from None


def to_list(value: Any) -> list[str]:
    """A list of texts; text is split at commas, semicolons and white space."""
    if isinstance(value, list | tuple):
        items = [to_text(item) for item in value if not is_empty(item)]
        return [item for item in items if item]
    if isinstance(value, str):
        return [clean_text(part) for part in _LIST_SEPARATORS.split(value) if part]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return [to_text(value)]
    raise ValueProblem(f"found {short(value)}; expected a list")


def to_email(value: Any) -> str:
    text = to_text(value).lower()
    if "@" not in text.strip("@"):
        raise ValueProblem(f"found {short(value)}; expected an email address")
    return text


def to_domain(value: str) -> str:
    """'https://www.Acme.com/about' or 'ops@acme.com' -> 'acme.com'."""
    text = value.strip().lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if "." not in host or any(not part for part in host.split(".")):
        raise ValueProblem(f"found {short(value)}; expected a domain such as acme.com")
    return host


def to_domains(value: Any) -> list[str]:
    return [to_domain(item) for item in to_list(value)]


def to_status(value: Any) -> TicketStatus:
    text = to_text(value).lower()
    try:
        return TicketStatus(text)
    except ValueError:
        expected = ", ".join(s.value for s in TicketStatus)
        raise ValueProblem(f"found {short(value)}; expected one of {expected}") from None


def to_tier(value: Any) -> str:
    text = to_text(value).lower().replace(" ", "_")
    return text or UNKNOWN_TIER


def to_time_zone(value: Any) -> str:
    text = to_text(value)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueProblem(
            f"found {short(value)}; expected an IANA time zone such as Europe/Berlin"
        ) from None
    return text


_BY_KIND = {
    "str": to_text,
    "int": to_int,
    "float": to_float,
    "date": to_date,
    "datetime": to_datetime,
    "list": to_list,
    "status": to_status,
    "tier": to_tier,
    "email": to_email,
    "domains": to_domains,
    "time_zone": to_time_zone,
}


def coerce(value: Any, kind: str) -> Any:
    """`value` as the canonical `kind` (see vocabulary/attributes.py); ValueProblem if it cannot be."""
    return _BY_KIND[kind](value)


def translation_key(value: Any) -> str:
    """How translate tables are matched: text, trimmed, case-insensitive."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().casefold()
