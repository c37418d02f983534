"""The text of a configuration file, which must be UTF-8.

Editors on Windows save "Unicode" as UTF-16, and some tools prepend a byte order mark. Decoding
such a file as UTF-8 fails with a codec message about "position 0", or, for UTF-16 without a
mark, succeeds with NUL characters that PyYAML refuses from deep inside its reader. Say instead
what the file is and what to do. A UTF-8 byte order mark is harmless and simply dropped.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from config.errors import ConfigProblem

_SAVE_AS_UTF8 = "expected UTF-8 (save the file as UTF-8)"
# Longest marks first: the UTF-32 little-endian mark begins with the UTF-16 one.
_FOREIGN_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_utf8(path: Path) -> tuple[str | None, ConfigProblem | None]:
    """The file's text, or None and the problem that says why it cannot be read."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, ConfigProblem(file, "(file)", "file not found; expected a YAML file")
    except OSError as error:
        return None, ConfigProblem(file, "(file)", f"cannot read the file: {error}")
    for mark, encoding in _FOREIGN_MARKS:
        if raw.startswith(mark):
            message = f"found a {encoding} byte order mark; {_SAVE_AS_UTF8}"
            return None, ConfigProblem(file, "(file)", message)
    if b"\x00" in raw:  # never in UTF-8 text; every other byte in UTF-16 text of ASCII
        message = f"found NUL bytes, as in UTF-16 or UTF-32; {_SAVE_AS_UTF8}"
        return None, ConfigProblem(file, "(file)", message)
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        byte = raw[error.start]
        line = raw.count(b"\n", 0, error.start) + 1
        message = f"found the byte 0x{byte:02x}, which is not UTF-8; {_SAVE_AS_UTF8}"
        return None, ConfigProblem(file, "(file)", message, line)
