"""Small value builders the generator shares: vendor timestamp formats, ids, base URLs.

Times are handled as integer unix seconds while generating (cheap to draw and compare) and
formatted once per record in each vendor's own format.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

# Hosts written into `url` / `self` fields. The emulations serve on 127.0.0.1 and may rewrite
# them; the data set itself must not depend on a port.
ZENDESK_BASE_URL = "https://sandbox.zendesk.com"
JIRA_BASE_URL = "https://sandbox.atlassian.net"
SALESFORCE_SOBJECTS_PATH = "/services/data/v{version}/sobjects"

# Zendesk ids are large integers; separate ranges keep ids of different kinds apart.
ZENDESK_ORG_ID_START = 360_100_000_001
ZENDESK_USER_ID_START = 361_000_000_001
ZENDESK_TICKET_ID_START = 1_001
ZENDESK_TICKET_METRIC_ID_START = 362_000_000_000  # + the ticket id
JIRA_ISSUE_ID_START = 10_001

SALESFORCE_KEY_PREFIXES = {"Account": "001", "User": "005", "Escalation__c": "a0X"}

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SERIAL_SPACE = 62**9
# Odd and not a multiple of 31, so coprime with 62**9: scrambling sequence numbers with it is
# a bijection, and ids look like a real org's instead of counting up visibly.
_SERIAL_SCRAMBLE = 0x2F0A_C3D1_9B5


def zendesk_time(ts: int) -> str:
    """Zendesk's timestamp format: '2026-11-20T10:15:30Z'."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def jira_time(ts: int) -> str:
    """Jira's timestamp format: '2026-11-20T10:15:30.000+0000'."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(ts))


# Salesforce returns datetimes in the same shape as Jira.
salesforce_time = jira_time


def iso_date(ts: int) -> str:
    """A calendar date, 'YYYY-MM-DD', of a unix time in UTC."""
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


def salesforce_id(key_prefix: str, serial: int) -> str:
    """An 18-character Salesforce id: key prefix, pod, serial, and the case-safe suffix.

    Distinct serials give distinct ids; the suffix is computed as Salesforce does, so
    15-character forms of these ids convert back correctly.
    """
    scrambled = (serial * _SERIAL_SCRAMBLE) % _SERIAL_SPACE
    digits = []
    for _ in range(9):
        scrambled, digit = divmod(scrambled, 62)
        digits.append(_BASE62[digit])
    short_id = key_prefix + "Hs0" + "".join(reversed(digits))
    return short_id + case_safe_suffix(short_id)


def case_safe_suffix(short_id: str) -> str:
    """The three characters Salesforce appends to a 15-character id to make it case-insensitive."""
    suffix = []
    for chunk_start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(short_id[chunk_start : chunk_start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def salesforce_attributes(sobject: str, record_id: str, api_version: str) -> dict[str, str]:
    """The "attributes" member every Salesforce record carries in query results."""
    path = SALESFORCE_SOBJECTS_PATH.format(version=api_version)
    return {"type": sobject, "url": f"{path}/{sobject}/{record_id}"}


def sample_indices(rng: random.Random, population: int, fraction: float) -> frozenset[int]:
    """A seeded choice of which records get a rare property: about `fraction` of them.

    At least one whenever the population is not empty, so every kind of dirty data is present
    even in small data sets.
    """
    if population <= 0:
        return frozenset()
    count = min(population, max(1, round(population * fraction)))
    return frozenset(rng.sample(range(population), count))


def spread_values(indices: frozenset[int], values: Sequence[T]) -> dict[int, T]:
    """Give the chosen records the values in turn, so every value is used before any repeats."""
    return {index: values[rank % len(values)] for rank, index in enumerate(sorted(indices))}
