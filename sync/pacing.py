"""The quotas a run paces to and how long it may wait for them, from the `sync:` config.

The transport (connectors/transport.py) spaces requests with `Pacer`s and bounds all waits of
a run with `RetryPolicy.max_total_wait_seconds`; the numbers come from here, so a customer on
Zendesk's High Volume add-on or another plan says so once in the config:

- Zendesk: incremental exports (`export_per_minute`, 10; 30 with High Volume) and the plan's
  account-wide limit, both paced. The plan's limit is shared with the account's other apps:
  the run takes `rate_share` of it (of X-Rate-Limit once announced, of `requests_per_minute`
  before).
- Jira: not paced client-side. Its burst limits are per endpoint and announced on the answers
  (`X-RateLimit-Remaining`), which the transport waits for; `requests_per_second` sizes a
  backfill (`seconds_per_request`) and is what `doctor` compares with `X-RateLimit-Limit`.
- Salesforce: no per-minute limit; `requests_per_day` (the daily allowance) sizes a backfill,
  and writing stops when `api_reserve` of the allowance is left (sync/allowance.py).
"""

from __future__ import annotations

from config.schema import Config
from connectors.transport import RetryPolicy

ZENDESK_EXPORTS = r"/api/v2/incremental/"
ZENDESK_ANY = r"/api/v2/"
MINUTE = 60.0


def run_policy(config: Config, max_wait_seconds: float | None = None) -> RetryPolicy:
    """The retry policy of one run: `sync.max_wait` unless the caller gives its own limit
    (`backfill`: none, or --max-time)."""
    wait = config.sync.max_wait if max_wait_seconds is None else max_wait_seconds
    return RetryPolicy(max_total_wait_seconds=wait)


def seconds_per_request(config: Config, stream: str) -> float:
    """The least time between two read requests of a stream that a quota allows (0: none binds);
    real seconds, scaled like the pacers."""
    scale = config.sync.quota_time_factor
    if stream.startswith("zendesk."):
        return MINUTE / config.sync.zendesk.export_per_minute * scale
    if stream.startswith("jira."):
        return 1.0 / config.sync.jira.requests_per_second * scale
    return 0.0


def page_size(config: Config, stream: str) -> int:
    """Records per read request of a stream, as configured."""
    if stream.startswith("zendesk."):
        return config.sync.zendesk.page_size
    if stream.startswith("jira."):
        return config.sync.jira.page_size
    return config.sync.salesforce.query_batch_size
