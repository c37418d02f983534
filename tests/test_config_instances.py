"""Named Zendesk instances (connections.zendesk.instances): what is accepted, and each mistake reported
at its own key, with its file and line, as the rest of the config is."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from config.errors import ConfigError
from config.loader import load_config
from config.schema import Config
from config.summary import summarise_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"

EU = """    instances:
      eu:
        url: https://acme-eu.zendesk.com
        email_env: ZENDESK_EU_EMAIL
        token_env: ZENDESK_EU_API_TOKEN
"""


def _config(tmp_path: Path, instances: str, connections_edit: tuple[str, str] = ("", "")) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(EXAMPLE, folder)
    main = folder / "escalation-sync.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace("/var/lib/escalation-sync/", "state/"),
        encoding="utf-8",
    )
    connections = folder / "connections.yaml"
    text = connections.read_text(encoding="utf-8").replace(*connections_edit)
    # Under connections.zendesk, after its last key.
    text = text.replace(
        "    timeout_seconds: 30\n\n  jira:",
        "    timeout_seconds: 30\n" + instances + "\n  jira:",
        1,
    )
    connections.write_text(text, encoding="utf-8")
    return main


def _problems(main: Path) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load_config(main)
    return [f"{p.key_path}: {p.message}" for p in raised.value.problems]


def _line_of(main: Path, text: str) -> int:
    lines = (main.parent / "connections.yaml").read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_a_named_zendesk_has_its_own_connection_and_the_defaults_sections(tmp_path: Path):
    config = load_config(_config(tmp_path, EU))
    assert config.connections.instance_names("zendesk") == ("eu",)
    eu = config.for_instance("eu")
    assert eu.connections.zendesk is not None
    assert eu.connections.zendesk.url == "https://acme-eu.zendesk.com"
    assert eu.mapping == config.mapping and eu.join == config.join  # nothing of its own given
    assert config.for_instance(None) is config
    assert config.for_record("zendesk", "eu/12") is eu
    assert config.for_record("zendesk", "12") is config


def test_a_named_zendesks_own_mapping_join_and_quotas_replace_the_defaults_for_it(
    tmp_path: Path,
):
    own = EU + (
        "        join: [{strategy: email_domain}]\n"
        "        mapping: {tags_prefix: esc_eu_, private_note_on_level_change: false}\n"
        "        sync: {requests_per_minute: 200}\n"
    )
    config = load_config(_config(tmp_path, own))
    eu = config.for_instance("eu")
    assert [s.key for s in eu.join] == ["email_domain"]
    assert eu.mapping.zendesk.tags_prefix == "esc_eu_"
    assert eu.mapping.jira == config.mapping.jira
    assert eu.sync.zendesk.requests_per_minute == 200
    assert config.sync.zendesk.requests_per_minute != 200


def test_each_secret_of_a_named_zendesk_is_checked_at_its_key(tmp_path: Path):
    main = _config(tmp_path, EU)
    config = load_config(main)
    environ = {
        name: "x"
        for _, name in config.secret_refs()
        if name not in ("ZENDESK_EU_API_TOKEN", "ZENDESK_EU_EMAIL")
    }
    environ["ZENDESK_EU_EMAIL"] = "bot@acme.example"
    problems = config.check_environment(environ)
    assert [str(p).split(": ", 1)[1] for p in problems] == [
        "connections.zendesk.instances.eu.token_env: environment variable ZENDESK_EU_API_TOKEN "
        "is not set (or empty); expected it to hold the secret"
    ]
    assert problems[0].line == _line_of(main, "ZENDESK_EU_API_TOKEN")


@pytest.mark.parametrize(
    ("instances", "expected"),
    [
        (
            EU.replace("      eu:", "      EU:"),
            "connections.zendesk.instances.EU: found 'EU'; expected a name of lowercase letters, digits, "
            "_ and - that starts with a letter (at most 31 characters)",
        ),
        (
            EU.replace("        token_env: ZENDESK_EU_API_TOKEN\n", ""),
            "connections.zendesk.instances.eu.token_env: missing; auth 'api_token' needs it: the "
            "name of the environment variable holding the API token",
        ),
        (
            EU + "        join: [{strategy: email_domain}, {strategy: email_domain}]\n",
            "connections.zendesk.instances.eu.join[1]: repeats join[0] (email_domain); "
            "expected each strategy once",
        ),
        (
            EU
            + "        mapping: {write: {level: {field: 1, format: dropdown, options: {x: y}}}}\n",
            "connections.zendesk.instances.eu.mapping.write.level.options.x: unknown level 'x'; "
            "expected one of none, informational, advisory, action-needed, executive-review",
        ),
        (
            EU + "        region: emea\n",
            "connections.zendesk.instances.eu.region: unknown key",
        ),
        (
            EU.replace("acme-eu.zendesk.com", "acme.zendesk.com"),
            "connections.zendesk.instances.eu.url: found https://acme.zendesk.com, the Zendesk of "
            "connections.zendesk; expected another Zendesk",
        ),
    ],
    ids=["name", "secret-missing", "join-twice", "mapping-level", "unknown-key", "same-zendesk"],
)
def test_a_named_zendesks_mistake_is_reported_at_its_key(
    tmp_path: Path, instances: str, expected: str
):
    problems = _problems(_config(tmp_path, instances))
    assert any(p.startswith(expected) for p in problems), problems


def test_named_zendesks_are_off_with_the_zendesk_they_are_under(tmp_path: Path):
    main = _config(
        tmp_path, EU, ("  zendesk:\n    url:", "  zendesk:\n    enabled: false\n    url:")
    )
    config = load_config(main)
    assert config.connections.instance_names("zendesk") == ()
    assert all(not name.startswith("ZENDESK") for _, name in config.secret_refs())


def test_one_zendesk_keeps_its_config_and_names(tmp_path: Path):
    config = load_config(_config(tmp_path, ""))
    assert isinstance(config, Config)
    assert config.connections.zendesk is not None
    assert config.connections.zendesk.instances == {}
    assert config.connections.instance_names("zendesk") == ()
    assert config.for_record("zendesk", "eu/12") is config  # no instance: ids are the vendor's


def test_validate_lists_each_named_zendesk_with_how_its_tickets_are_named(tmp_path: Path):
    summary = summarise_config(load_config(_config(tmp_path, EU)))
    assert "  zendesk     https://acme.zendesk.com (api_token)" in summary
    assert "  zendesk eu: https://acme-eu.zendesk.com (api_token; tickets zendesk:eu/ID)" in summary


def test_the_readmes_several_zendesks_example_is_a_valid_config(tmp_path: Path):
    readme = (EXAMPLE.parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Several instances", 1)[1].split("\n### ", 1)[0]
    block = [line[4:] for line in section.splitlines() if line.startswith("    ")]
    assert block[0] == "connections:"
    folder = tmp_path / "config"
    shutil.copytree(EXAMPLE, folder)
    main = folder / "escalation-sync.yaml"
    main.write_text(
        main.read_text(encoding="utf-8").replace("/var/lib/escalation-sync/", "state/"),
        encoding="utf-8",
    )
    (folder / "connections.yaml").write_text("\n".join(block) + "\n", encoding="utf-8")
    config = load_config(main)
    eu = config.for_instance("eu")
    assert eu.mapping.zendesk.tags_prefix == "esc_eu_"
    assert eu.sync.zendesk.requests_per_minute == 400
    assert [s.key for s in eu.join] == ["organization_external_id"]
    # Zendesk eu joins to org eu, with its own reserve.
    assert config.org_of_ticket("zendesk", "eu/12") == "eu"
    assert config.for_org("eu").sync.salesforce.api_reserve == 0.3
    # Its jira: links name site eu's issues; eu's issues list Zendesk eu's tickets.
    assert config.connections.site_of("eu") == "eu"
    linked = config.for_site("eu").mapping.jira.ticket.linked
    assert linked is not None and linked.prefix == "zendesk:eu/"


SITE_EU = """    instances:
      eu:
        url: {url}
        email_env: JIRA_EU_EMAIL
        token_env: JIRA_EU_API_TOKEN
        projects: [SUP]
"""

ORG_EU = """    instances:
      eu:
        login_url: {url}
        {auth}
"""


@pytest.mark.parametrize(
    ("system", "section", "expected"),
    [
        (
            "jira",
            SITE_EU.format(url="https://ACME.atlassian.net/"),
            "connections.jira.instances.eu.url: found https://ACME.atlassian.net, the Jira site "
            "of connections.jira; expected another Jira site",
        ),
        (
            "salesforce",
            ORG_EU.format(
                url="https://acme.my.salesforce.com",
                auth="client_id_env: SF_EU_ID\n        client_secret_env: SF_EU_SECRET",
            ),
            "connections.salesforce.instances.eu.login_url: found https://acme.my.salesforce.com,"
            " the Salesforce org of connections.salesforce; expected another Salesforce org",
        ),
    ],
    ids=["same-site", "same-org"],
)
def test_a_named_site_or_org_that_is_the_default_again_is_refused_at_its_key(
    tmp_path: Path, system: str, section: str, expected: str
):
    """Its issues or accounts would be read twice, under two references, and written twice."""
    after = "    timeout_seconds: 30\n" if system == "jira" else "    timeout_seconds: 60\n"
    anchor = after + ("\n  salesforce:" if system == "jira" else "    # ca_bundle:")
    main = _config(tmp_path, "", (anchor, after + section + anchor.removeprefix(after)))
    problems = _problems(main)
    assert expected in problems, problems


def test_orgs_logging_in_by_password_are_told_apart_by_their_user(tmp_path: Path):
    """With auth: password every org may log in at login.salesforce.com: two orgs there are
    fine with two users, refused with one."""
    default = (
        "    auth: client_credentials ",
        "    auth: password\n    username_env: SF_USER\n    password_env: SF_PASSWORD\n    # was ",
    )
    url = "https://acme.my.salesforce.com"
    anchor = "    timeout_seconds: 60\n    # ca_bundle:"
    for user, refused in (("SF_EU_USER", False), ("SF_USER", True)):
        org = ORG_EU.format(
            url=url,
            auth=f"auth: password\n        username_env: {user}\n        password_env: SF_EU_PASSWORD",
        )
        edit = (anchor, "    timeout_seconds: 60\n" + org + "    # ca_bundle:")
        main = _config(tmp_path / user, "", edit)
        text = (main.parent / "connections.yaml").read_text(encoding="utf-8")
        (main.parent / "connections.yaml").write_text(text.replace(*default, 1), encoding="utf-8")
        expected = (
            "connections.salesforce.instances.eu.username_env: found SF_USER at "
            "acme.my.salesforce.com, the Salesforce org of connections.salesforce; expected "
            "another Salesforce org"
        )
        if refused:
            assert expected in _problems(main)
        else:
            assert load_config(main).connections.instance_names("salesforce") == ("eu",)
