"""Every connector the CLI builds satisfies the written contract (connectors/base.py), and the
capability protocols say where the vendors differ; the factory gives each its config's sizes."""

from __future__ import annotations

import pytest
import trustme

from config.loader import load_config
from connectors.base import Connector, ConnectorStats, NoteReader, UpsertReader
from sandbox.sandbox_config import ENVIRONMENT, write_sandbox_config
from sync.connections import build_connectors
from sync.run import transport_stats


@pytest.fixture
def connectors(tmp_path, monkeypatch):
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    ca = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca))
    urls = {name: "https://127.0.0.1:1" for name in ("zendesk", "jira", "salesforce")}
    extra = (
        "sync:\n  zendesk: {page_size: 250}\n"
        "  salesforce: {query_batch_size: 500, write_batch_size: 50}\n"
    )
    config = load_config(write_sandbox_config(tmp_path / "cfg", urls, ca, extra=extra))
    built = build_connectors(config)
    yield config, built
    for connector in built.values():
        connector.close()


def test_every_built_connector_satisfies_the_contract_and_names_its_streams(connectors):
    _, built = connectors
    assert list(built) == ["zendesk", "jira", "salesforce"]
    for system, connector in built.items():
        assert isinstance(connector, Connector), system
        assert connector.system == system
    assert {s: c.streams for s, c in built.items()} == {
        "zendesk": ("organizations", "tickets", "ticket_events"),
        "jira": ("issues",),
        "salesforce": ("accounts",),
    }


def test_only_zendesk_reads_notes_and_only_salesforce_reads_upserted_records(connectors):
    _, built = connectors
    assert [s for s, c in built.items() if isinstance(c, NoteReader)] == ["zendesk"]
    assert [s for s, c in built.items() if isinstance(c, UpsertReader)] == ["salesforce"]


def test_the_factory_passes_the_config_sizes_and_account_query_to_the_constructor(connectors):
    config, built = connectors
    zendesk, salesforce = built["zendesk"], built["salesforce"]
    assert zendesk.page_size == 250
    assert (salesforce.batch_size, salesforce.write_batch_size) == (500, 50)
    assert "Name" in salesforce.account_fields
    assert salesforce.account_filter == config.mapping.salesforce.where


def test_a_connector_that_sent_nothing_reports_zero_traffic(connectors):
    _, built = connectors
    assert built["jira"].stats() == ConnectorStats()
    assert transport_stats(built)["salesforce"] == {
        "requests": 0,
        "retries": 0,
        "throttled": 0,
        "waited_seconds": 0.0,
        "logins": 0,
    }


def test_a_stream_the_connector_does_not_have_is_a_programming_error(connectors):
    _, built = connectors
    with pytest.raises(ValueError, match="jira has no stream 'tickets'"):
        built["jira"].read_changes("tickets", None)
