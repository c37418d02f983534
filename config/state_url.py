"""`state.url`: a PostgreSQL state store's address, checked at the config edge.

The password never lives in the URL (nor anywhere in the config): `state.password_env` names
the environment variable that holds it. `display_url` is the form every message and log line
uses: no password, no query options.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be a state URL, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError as error:
        return f"found an unreadable URL ({error}); expected postgresql://user@host/database"
    if parts.scheme not in SCHEMES:
        return f"found '{display_url(url)}'; expected a postgresql://user@host/database URL"
    if parts.password is not None:
        return (
            "found a password in the URL; remove it and put the name of the environment "
            "variable that holds it in state.password_env"
        )
    if not parts.path.strip("/"):
        return (
            f"found '{display_url(url)}' with no database; expected postgresql://user@host/DATABASE"
        )
    return None


def display_url(url: str) -> str:
    """The URL without a password or query options, for messages."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "postgresql://(unreadable URL)"
    host = parts.hostname or ""
    if port is not None:
        host += f":{port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, "", ""))
