"""The Salesforce connector against the sandbox: simple-salesforce over HTTPS, the shared policy."""

from __future__ import annotations

import pytest

from connectors.base import FieldWrite, WriteStatus
from connectors.errors import AuthError, RateLimited
from connectors.salesforce import SalesforceConnector, SalesforceCredentials
from connectors.transport import Pacer, RetryPolicy
from sandbox import catalogue
from sandbox.faults import Fault

pytestmark = pytest.mark.integration


def connector(
    sandbox,
    batch_size: int = 2000,
    secret: str = catalogue.SALESFORCE_CLIENT_SECRET,
    **options,
):
    credentials = SalesforceCredentials(catalogue.SALESFORCE_CLIENT_ID, secret)
    policy = RetryPolicy(sleep=lambda seconds: None, backoff_initial_seconds=0.01)
    return SalesforceConnector(
        sandbox.urls["salesforce"],
        credentials,
        ca_bundle=str(sandbox.ca_path),
        batch_size=batch_size,
        policy=policy,
        **options,
    )


def add_accounts(sandbox, stamps: list[str]) -> list[str]:
    return [
        sandbox.salesforce.put_record(
            "Account", {"Name": f"Account {n:04d}", "SystemModstamp": stamp}
        )
        for n, stamp in enumerate(stamps)
    ]


def read_all(sf: SalesforceConnector, cursor: str | None) -> tuple[list[str], str | None, int]:
    ids, pages = [], 0
    for page in sf.read_account_changes(cursor, ["Name", "Open_Escalations__c"]):
        ids += [record.id for record in page.records]
        cursor, pages = page.cursor, pages + 1
    return ids, cursor, pages


def test_backfill_pages_to_the_end_then_reads_only_changes(sandbox):
    stamps = [f"2026-01-01T00:{n // 60:02d}:{n % 60:02d}.000+0000" for n in range(450)]
    ids = add_accounts(sandbox, stamps)
    sf = connector(sandbox, batch_size=200)
    read, cursor, pages = read_all(sf, None)
    assert (sorted(read), pages, cursor) == (sorted(ids), 3, stamps[-1])
    sandbox.salesforce.edit_record("Account", ids[10], Name="Edited by a person")
    again, newer, _ = read_all(sf, cursor)
    assert again == [ids[-1], ids[10]]  # the boundary second is read again, then the change
    assert newer > cursor


def test_records_sharing_a_second_across_pages_are_never_skipped(sandbox):
    # 250 records in one second, milliseconds apart: a crash after the first page of 200 resumes
    # from that page's cursor and still gets the 50 others, although Salesforce ignores the
    # milliseconds when filtering.
    stamps = [f"2026-01-01T00:00:00.{n:03d}+0000" for n in range(250)]
    ids = add_accounts(sandbox, stamps)
    sf = connector(sandbox, batch_size=200)
    first_page = next(iter(sf.read_account_changes(None, ["Name"])))
    assert len(first_page.records) == 200 and not first_page.done
    resumed, _, _ = read_all(connector(sandbox, batch_size=200), first_page.cursor)
    assert set(ids[200:]) <= set(resumed)


def test_writes_are_read_back_and_upserts_create_once(sandbox):
    ids = add_accounts(sandbox, ["2026-01-01T00:00:00.000+0000"] * 3)
    sf = connector(sandbox)
    _, cursor, _ = read_all(sf, None)
    writes = [
        FieldWrite("salesforce", "account", ids[0], {"Open_Escalations__c": 2, "Highest_Escalation_Level__c": "advisory"}),
        FieldWrite("salesforce", "escalation_record", "zendesk:101", {"Level__c": "advisory", "Account__c": ids[0]}),
    ]  # fmt: skip
    assert [r.status for r in sf.apply(writes)] == [WriteStatus.OK, WriteStatus.OK]
    assert [r.status for r in sf.apply(writes)] == [WriteStatus.OK, WriteStatus.OK]
    changed = [
        r for page in sf.read_account_changes(cursor, ["Open_Escalations__c"]) for r in page.records
    ]
    assert [(r.id, r.data["Open_Escalations__c"]) for r in changed][-1] == (ids[0], 2.0)
    [escalation] = sf.read_records(
        "Escalation__c",
        "escalation_record",
        ["Ticket_Ref__c", "Level__c"],
        ["zendesk:101"],
        "Ticket_Ref__c",
    )
    assert escalation.data["Level__c"] == "advisory"
    assert len(sandbox.salesforce.records("Escalation__c")) == 1


def test_hostile_values_are_matched_exactly(sandbox):
    hostile = ["O'Brien \\ Sons", "x' OR Name != '", "tab\tnew\nline", "Zoë's Café 🚀"]
    for name in hostile + ["Plain"]:
        sandbox.salesforce.put_record("User", {"Name": name, "Email": "u@example.com"})
    found = connector(sandbox).read_records("User", "user", ["Name"], hostile, key_field="Name")
    assert sorted(record.data["Name"] for record in found) == sorted(hostile)


def test_per_record_lock_is_retried_and_lands_next_run(sandbox):
    ids = add_accounts(sandbox, ["2026-01-01T00:00:00.000+0000"] * 2)
    sandbox.salesforce.fail_records([ids[1]], "UNABLE_TO_LOCK_ROW")
    sandbox.salesforce.fail_records(
        [ids[0]], "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Locked for review"
    )
    sf = connector(sandbox)
    writes = [
        FieldWrite("salesforce", "account", record_id, {"Open_Escalations__c": 1})
        for record_id in ids
    ]
    first = sf.apply(writes)
    assert [r.status for r in first] == [WriteStatus.REJECTED, WriteStatus.RETRY]
    assert first[0].reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Locked for review"
    assert sf.apply(writes[1:])[0].status is WriteStatus.OK
    assert sandbox.salesforce.get_record("Account", ids[1])["Open_Escalations__c"] == 1.0


def test_expired_session_and_server_errors_are_recovered(sandbox):
    add_accounts(sandbox, ["2026-01-01T00:00:00.000+0000"] * 5)
    sf = connector(sandbox)
    read_all(sf, None)
    sandbox.salesforce.expire_all_sessions()
    sandbox.salesforce.faults.add(Fault("query_all", "status", status=503, retry_after=0))
    ids, _, _ = read_all(sf, None)
    assert len(ids) == 5 and sf.logins == 2


def test_wrong_secret_is_auth_error(sandbox):
    with pytest.raises(AuthError, match="invalid_client"):
        read_all(connector(sandbox, secret="wrong"), None)


def test_spent_api_allowance_stops_the_run(sandbox):
    add_accounts(sandbox, ["2026-01-01T00:00:00.000+0000"])
    sandbox.salesforce.set_api_allowance(1)
    sf = connector(sandbox)
    read_all(sf, None)
    with pytest.raises(RateLimited):
        read_all(sf, None)


def test_pacer_keeps_under_a_per_minute_rule_without_429s(sandbox):
    add_accounts(sandbox, [f"2026-01-01T00:00:{n % 60:02d}.000+0000" for n in range(800)])
    sandbox.salesforce.set_per_minute_limit(3, time_factor=0.01)  # 3 requests per 0.6 s
    credentials = SalesforceCredentials(
        catalogue.SALESFORCE_CLIENT_ID, catalogue.SALESFORCE_CLIENT_SECRET
    )
    sf = SalesforceConnector(
        sandbox.urls["salesforce"],
        credentials,
        ca_bundle=str(sandbox.ca_path),
        batch_size=200,
        pacers=[Pacer(r"/services/data/", 3, 0.6)],
    )
    ids, _, pages = read_all(sf, None)
    assert (len(ids), pages) == (800, 4)
    statuses = sandbox.salesforce.traffic.snapshot()["statuses"]
    assert not [key for key in statuses if key.endswith(" 429")]
    assert sf.adapter.stats.throttled == 0


def test_account_filter_from_the_config_limits_the_incremental_read(sandbox):
    app = sandbox.salesforce
    first = app.put_record("Account", {"Name": "Keep Ltd", "Tier__c": "strategic"})
    app.put_record("Account", {"Name": "Drop Ltd", "Tier__c": "standard"})
    accounts = connector(
        sandbox, account_fields=["Name", "Tier__c"], account_filter="Tier__c = 'strategic'"
    )
    ids = [r.id for page in accounts.read_changes("accounts", None) for r in page.records]
    assert ids == [first]


def test_a_login_whose_connection_is_refused_is_sent_again_once_the_org_answers(tmp_path):
    """The login's POST never left while the connection was refused (a restart, a failover):
    it is sent again, as a read would be, and the run goes on once Salesforce answers."""
    import socket

    from sandbox.runner import Sandbox
    from sandbox.server import VendorHTTPServer

    with socket.socket() as probe:  # a port nothing listens on, for now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    org = Sandbox(work_dir=tmp_path / "sandbox", quotas=False)  # its apps; not started
    servers: list[VendorHTTPServer] = []
    waits: list[float] = []

    def wait_then_come_up(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # refused twice, then the org is back on its port
            servers.append(VendorHTTPServer(org.salesforce, org.tls, port))
            servers[0].start()

    policy = RetryPolicy(sleep=wait_then_come_up, backoff_initial_seconds=0.01)
    credentials = SalesforceCredentials(
        catalogue.SALESFORCE_CLIENT_ID, catalogue.SALESFORCE_CLIENT_SECRET
    )
    url = f"https://127.0.0.1:{port}"
    sf = SalesforceConnector(url, credentials, ca_bundle=str(org.ca_path), policy=policy)
    try:
        sf.login()
        assert sf.logins == 1 and len(waits) == 2
        assert sf.stats().retries == 2
    finally:
        sf.close()
        for server in servers:
            server.stop()


def test_a_login_never_answered_after_its_attempts_is_salesforce_unreachable(tmp_path):
    import socket

    from connectors.errors import SystemUnavailable

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    policy = RetryPolicy(sleep=waits.append, backoff_initial_seconds=0.01, max_attempts=3)
    credentials = SalesforceCredentials("id", "never-logged-secret")
    sf = SalesforceConnector(f"https://127.0.0.1:{port}", credentials, policy=policy)
    with pytest.raises(SystemUnavailable, match="no answer") as raised:
        sf.login()
    assert len(waits) == 2  # three attempts
    assert "never-logged-secret" not in str(raised.value)
