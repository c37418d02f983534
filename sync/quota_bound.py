"""What a quota-bound run tells: per system, how far it read and wrote and what is left.

A run stops reading (or writing) a system when its quota or the run's waiting budget
(`sync.max_wait`) runs out. Everything read is stored with its cursor and written, so this is
not a failure: the summary says how far it got, about how much is left and how long the
vendor's quota needs for the rest, and that the next run resumes ("zendesk tickets: 61,000 of
about 100,000 read; about 4 min of quota left to read the rest; resumes next run").
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from sync.progress import about, duration_text

if TYPE_CHECKING:
    from sync.run import RunResult


def quota_bound_summary(result: RunResult) -> dict[str, dict[str, Any]]:
    """system -> why, the streams it stopped in (read, about how many in all, seconds of quota
    for the rest) and its writes left for the next run."""
    found: dict[str, dict[str, Any]] = {}
    for system, why in sorted(result.quota_bound.items()):
        reads = []
        # A named Zendesk is quota-bound as `zendesk@eu`, its streams `zendesk.tickets@eu`.
        base, _, instance = system.partition("@")
        for name, stream in result.pull.streams.items():
            if not name.startswith(f"{base}.") or name.partition("@")[2] != instance:
                continue
            if stream.done:
                continue
            left = stream.left()
            eta = stream.eta_seconds()
            reads.append(
                {
                    "stream": name,
                    "kind": stream.kind,
                    "read": stream.read,
                    "about_total": None if left is None else stream.read + left,
                    "seconds_left": None if eta is None else round(eta),
                    "quota_paced": stream.seconds_per_request > 0,
                }
            )
        entry: dict[str, Any] = {"why": why, "reads": reads}
        progress = result.apply.progress.get(system)
        if system in result.apply.quota_bound and progress is not None:
            retry = sum(1 for ref, _ in result.apply.retry if ref.startswith(f"{system}:"))
            levels = result.apply.waiting_levels.get(system, Counter())
            entry["writes"] = {
                "planned": progress.total,
                "waiting": progress.total - progress.sent + retry,
                # The levels those writes are for, highest first: the others went first.
                "levels": [level or "none" for level in levels],
            }
        found[system] = entry
    return found


def quota_bound_lines(summary: dict[str, dict[str, Any]]) -> list[str]:
    """The summary's words for each quota-bound system (never "unreachable": it answered)."""
    lines = []
    for system, entry in summary.items():
        for read in entry["reads"]:
            text = f"{system} {read['kind']}: {read['read']:,}"
            if read["about_total"] is not None:
                text += f" of about {about(read['about_total'])}"
            text += " read"
            if read["seconds_left"] is not None:
                quota = " of quota" if read["quota_paced"] else ""
                text += (
                    f"; about {duration_text(read['seconds_left'])}{quota} left to read the rest"
                )
            lines.append(text + "; resumes next run")
        writes = entry.get("writes")
        if writes:
            levels = writes.get("levels") or []
            named = (
                f" for level{'s' if len(levels) > 1 else ''} {', '.join(levels)}" if levels else ""
            )
            lines.append(
                f"{system} writes: {writes['planned'] - writes['waiting']:,} of "
                f"{writes['planned']:,} done; {writes['waiting']:,} writes{named} kept for the "
                f"next run: {entry['why'].removeprefix(system + ': ')}"
            )
        if not entry["reads"] and not writes:
            lines.append(f"{system}: quota spent; resumes next run")
    return lines
