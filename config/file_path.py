"""Whether a configured path can hold a file the run creates (the state file, its lock).

`validate` said "ok" for a state.path naming a directory or a place under /proc, and the run
then failed with a traceback. A path cannot be such a file when it is a directory (or another
non-regular file), when a part of it above is a file, or when it lies on a kernel's pseudo file
system (proc, sysfs, ...), where nothing can be created. Nothing is created here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Kernel interfaces mounted as file systems: files there are not storage.
PSEUDO_FILE_SYSTEMS = frozenset(
    {
        "proc",
        "sysfs",
        "devpts",
        "cgroup",
        "cgroup2",
        "debugfs",
        "tracefs",
        "securityfs",
        "configfs",
        "pstore",
        "bpf",
        "efivarfs",
        "fusectl",
        "mqueue",
        "binfmt_misc",
        "nsfs",
        "selinuxfs",
    }
)
MOUNTS = Path("/proc/self/mounts")


def file_path_problem(path: Path) -> str | None:
    """Why `path` cannot be a file the run creates and writes, or None."""
    if path.is_dir():
        return f"found {path}, a directory; expected the path of a file in it"
    if path.exists() and not path.is_file():
        return f"found {path}, which is not a regular file; expected the path of a file"
    existing = next((p for p in path.parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"found {path}, but {existing} is a file, not a directory; expected a file path"
    file_system = _file_system(Path(os.path.realpath(existing or path.parent)))
    if file_system in PSEUDO_FILE_SYSTEMS:
        return (
            f"found {path}, on the kernel's {file_system} file system, where no file can be "
            "created; expected a path on a file system that stores files"
        )
    return None


def _file_system(path: Path) -> str | None:
    """The type of the file system `path` is on (the longest mount point above it); None
    where the mount table cannot be read (not Linux)."""
    try:
        lines = MOUNTS.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    best, kind = -1, None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        # The mount table writes spaces and other separators as octal escapes (\040).
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[1])
        if (path == Path(point) or Path(point) in path.parents) and len(point) > best:
            best, kind = len(point), fields[2]
    return kind
