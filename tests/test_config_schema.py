"""Config schema rules: connections, mappings, join, cross-references, and secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme
from test_config_loader import MAIN, MATRIX, only, problems, write

from config.errors import ConfigError
from config.loader import load_config


def with_section(text: str) -> str:
    return MAIN + text


# --- connections -------------------------------------------------------------------------


def test_api_token_auth_needs_its_env_keys(tmp_path: Path) -> None:
    main = MAIN.replace("    token_env: ZD_TOKEN\n", "")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "connections.zendesk.token_env",
    )
    assert problem.line == 3
    assert "auth 'api_token' needs it" in problem.message


def test_a_secret_value_in_an_env_key_is_refused(tmp_path: Path) -> None:
    main = MAIN.replace("token_env: ZD_TOKEN", "token_env: 'abc:def/123'")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "connections.zendesk.token_env",
    )
    assert "not an environment variable name" in problem.message


def test_auth_mode_typo_suggests_the_mode(tmp_path: Path) -> None:
    main = MAIN.replace("  salesforce:\n", "  salesforce:\n    auth: client_credential\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "connections.salesforce.auth"
    )
    assert "did you mean 'client_credentials'?" in problem.message


def test_missing_ca_bundle_file_is_an_error_and_relative_paths_use_the_config_folder(
    tmp_path: Path,
) -> None:
    main = MAIN.replace(
        "    token_env: ZD_TOKEN\n", "    token_env: ZD_TOKEN\n    ca_bundle: certs/ca.pem\n"
    )
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "connections.zendesk.ca_bundle",
    )
    assert str(tmp_path / "certs" / "ca.pem") in problem.message
    (tmp_path / "certs").mkdir()
    trustme.CA().cert_pem.write_to_path(str(tmp_path / "certs" / "ca.pem"))
    config = load_config(tmp_path / "main.yaml")
    assert config.connections.zendesk.ca_bundle == tmp_path / "certs" / "ca.pem"


def test_there_is_no_key_to_turn_tls_verification_off(tmp_path: Path) -> None:
    main = MAIN.replace("    token_env: ZD_TOKEN\n", "    token_env: ZD_TOKEN\n    verify: false\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "connections.zendesk.verify"
    )
    assert "unknown key 'verify'" in problem.message


def test_jira_projects_must_be_project_keys_and_cloud_cannot_use_start_at(tmp_path: Path) -> None:
    jira = "  jira:\n    url: https://acme.atlassian.net\n    email_env: J_EMAIL\n    token_env: J_TOKEN\n    projects: [sup]\n"
    main = MAIN.replace("  salesforce:\n", jira + "  salesforce:\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "connections.jira.projects"
    )
    assert "found ['sup']" in problem.message
    main = main.replace("[sup]", "[SUP]") + "sync:\n  jira:\n    search: start_at\n"
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "sync.jira.search"
    )
    assert "410 Gone" in problem.message and problem.line == 19


def test_api_version_written_as_a_number_is_accepted(tmp_path: Path) -> None:
    main = MAIN.replace(
        "    client_id_env: SF_ID\n", "    client_id_env: SF_ID\n    api_version: 61.0\n"
    )
    config = load_config(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert config.connections.salesforce.api_version == "61.0"


def test_a_config_without_a_ticket_system_is_an_error(tmp_path: Path) -> None:
    main = MAIN.replace("  zendesk:\n", "  zendesk:\n    enabled: false\n")
    problem = only(problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "connections")
    assert "no ticket system enabled" in problem.message


# --- secrets -------------------------------------------------------------------------------


def test_missing_env_vars_are_named_by_key_without_printing_values(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX))
    environ = {"ZD_EMAIL": "bot@acme.com", "ZD_TOKEN": "s3cr3t-value", "SF_ID": ""}
    found = config.check_environment(environ)
    assert [(p.key_path, p.line) for p in found] == [
        ("connections.salesforce.client_id_env", 8),
        ("connections.salesforce.client_secret_env", 9),
    ]
    assert "SF_ID is not set" in found[0].message
    assert not any("s3cr3t" in str(p) for p in found)


def test_secret_is_read_at_use_time_and_missing_one_raises_config_error(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX))
    assert config.secret("ZD_TOKEN", {"ZD_TOKEN": "t"}) == "t"
    with pytest.raises(ConfigError) as caught:
        config.secret("ZD_TOKEN", {})
    (problem,) = caught.value.problems
    assert problem.key_path == "connections.zendesk.token_env" and problem.line == 6


def test_disabled_systems_need_no_secrets(tmp_path: Path) -> None:
    main = MAIN.replace("  salesforce:\n", "  salesforce:\n    enabled: false\n")
    config = load_config(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert [env for _, env in config.secret_refs()] == ["ZD_EMAIL", "ZD_TOKEN"]


# --- mappings -------------------------------------------------------------------------------


def test_unknown_canonical_attribute_is_an_error_with_a_hint(tmp_path: Path) -> None:
    main = with_section("mapping:\n  zendesk:\n    ticket:\n      severty: {source: priority}\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "mapping.zendesk.ticket.severty",
    )
    assert problem.line == 15
    assert "did you mean 'severity'?" in problem.message
    assert "requester_email" in problem.message  # lists the canonical attributes


def test_bad_source_path_is_an_error(tmp_path: Path) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    ticket:\n      category: {source: 'custom_fields[1'}\n"
    )
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert (
        "cannot read the segment" in only(found, "mapping.zendesk.ticket.category.source").message
    )


def test_translate_values_must_fit_the_attribute(tmp_path: Path) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    ticket:\n      severity:\n        translate: {urgent: top}\n"
    )
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "mapping.zendesk.ticket.severity.translate.urgent",
    )
    assert problem.line == 16
    assert "found 'top'; expected a whole number" in problem.message


def test_an_entry_without_source_adjusts_the_default(tmp_path: Path) -> None:
    jira = "  jira:\n    url: https://acme.atlassian.net\n    email_env: J_EMAIL\n    token_env: J_TOKEN\n    projects: [SUP]\n"
    main = MAIN.replace("  salesforce:\n", jira + "  salesforce:\n")
    main += "mapping:\n  jira:\n    ticket:\n      status:\n        translate: {Blocked: on_hold}\n      severity: null\n"
    config = load_config(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    status = config.mapping.jira.ticket.status
    assert status.translate["blocked"] == "on_hold"
    assert status.translate["indeterminate"] == "open"  # the default table is kept
    assert [str(p) for p in status.paths] == [
        "fields.status.name",
        "fields.status.statusCategory.key",
    ]
    assert config.mapping.jira.ticket.severity is None


def test_required_attribute_cannot_be_switched_off(tmp_path: Path) -> None:
    main = with_section("mapping:\n  zendesk:\n    ticket:\n      status: null\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "mapping.zendesk.ticket.status",
    )
    assert "every record needs it" in problem.message


def test_zendesk_reads_ticket_metrics_by_default(tmp_path: Path) -> None:
    ticket = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX)).mapping.zendesk.ticket
    first_response = ticket.first_response_at
    assert [str(p) for p in first_response.paths] == ["metric_set.reply_time_in_minutes.calendar"]
    assert first_response.minutes_after == "created_at"
    assert [str(p) for p in ticket.last_agent_update_at.paths] == ["metric_set.assignee_updated_at"]


@pytest.mark.parametrize(
    ("base", "found"),
    [
        (
            "creatd_at",
            "found 'creatd_at', which is not a canonical attribute (did you mean 'created_at'?)",
        ),
        ("severity", "found 'severity', which holds int"),
        ("last_agent_update_at", "found 'last_agent_update_at', which is not mapped"),
        ("first_response_at", "itself counted in minutes after another attribute"),
    ],
)
def test_minutes_after_must_name_a_mapped_datetime_read_directly(
    tmp_path: Path, base: str, found: str
) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    ticket:\n      last_agent_update_at: null\n"
        f"      first_response_at: {{minutes_after: {base}}}\n"
    )
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "mapping.zendesk.ticket.first_response_at.minutes_after",
    )
    assert problem.line == 16
    assert found in problem.message
    assert (
        "expected a mapped date-time attribute read directly: "
        "created_at, status_changed_at, updated_at"
    ) in (problem.message)


def test_a_field_counted_in_minutes_must_read_a_number(tmp_path: Path) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    ticket:\n      first_response_at:\n"
        "        type: datetime\n        default: soon\n"
    )
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert (
        "this attribute is read as minutes, so expected float or int"
        in only(found, "mapping.zendesk.ticket.first_response_at.type").message
    )
    assert (
        "expected a number"
        in only(found, "mapping.zendesk.ticket.first_response_at.default").message
    )


def test_tier_translation_must_name_a_matrix_tier(tmp_path: Path) -> None:
    main = with_section(
        "mapping:\n  salesforce:\n    account:\n      tier: {source: Tier__c, translate: {Gold: gold, Std: standard}}\n"
    )
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "mapping.salesforce.account.tier.translate.gold",
    )
    assert "found tier 'gold'; expected one of standard, unknown" in problem.message


def test_level_dropdown_needs_an_option_for_every_level_and_only_known_levels(
    tmp_path: Path,
) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    write:\n      level:\n        field: 360001\n"
        "        options: {none: esc_none, advisroy: esc_advisory}\n"
    )
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert (
        "unknown level 'advisroy'"
        in only(found, "mapping.zendesk.write.level.options.advisroy").message
    )
    missing = only(found, "mapping.zendesk.write.level.options")
    assert (
        "no option for level informational, advisory, action-needed, executive-review"
        in missing.message
    )
    assert missing.line == 17


def test_write_field_ids_and_formats_are_checked_per_system(tmp_path: Path) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    write:\n      owner: Owner\n"
        "      sla_next_due: {field: 360002, format: datetime}\n      owner_role: {field: 360003, format: dropdown}\n"
    )
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert (
        "numeric id of a Zendesk ticket field"
        in only(found, "mapping.zendesk.write.owner.field").message
    )
    assert "datetime_text" in only(found, "mapping.zendesk.write.sla_next_due.format").message
    assert "needs options" in only(found, "mapping.zendesk.write.owner_role.options").message


def test_short_form_write_field_gets_the_output_s_format(tmp_path: Path) -> None:
    main = with_section(
        "mapping:\n  zendesk:\n    write:\n      owner: 360001\n      sla_next_due: 360002\n"
    )
    config = load_config(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    outputs = config.mapping.zendesk.write.outputs()
    assert (outputs["owner"].field, outputs["owner"].format) == ("360001", "text")
    assert outputs["sla_next_due"].format == "datetime_text"


def test_unknown_output_name_is_an_error_with_a_hint(tmp_path: Path) -> None:
    main = with_section("mapping:\n  zendesk:\n    write:\n      levle: 360001\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "mapping.zendesk.write.levle"
    )
    assert "did you mean 'level'?" in problem.message


# --- join --------------------------------------------------------------------------------------


def test_unknown_join_strategy_is_an_error_with_a_hint(tmp_path: Path) -> None:
    main = with_section("join:\n  - strategy: account_id_field\n  - strategy: email_domian\n")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "join[1].strategy"
    )
    assert problem.line == 14
    assert "did you mean 'email_domain'?" in problem.message


def test_join_strategy_options_are_checked(tmp_path: Path) -> None:
    main = with_section(
        "join:\n  - {strategy: organization_field}\n  - {strategy: email_domain, match: id}\n"
        "  - {strategy: account_id_field, match: ids}\n  - {strategy: account_id_field}\n"
    )
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert "required key 'field' is missing" in only(found, "join[0].field").message
    assert "unknown key 'match'" in only(found, "join[1].match").message
    assert "did you mean 'id'?" in only(found, "join[2].match").message


def test_the_same_join_strategy_twice_is_an_error(tmp_path: Path) -> None:
    main = with_section("join:\n  - strategy: email_domain\n  - strategy: email_domain\n")
    problem = only(problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "join[1]")
    assert "repeats join[0]" in problem.message and problem.line == 14


def test_sync_batch_sizes_are_bounded_by_the_apis(tmp_path: Path) -> None:
    main = with_section(
        "sync:\n  zendesk:\n    write_batch_size: 150\n  salesforce:\n    write_batch_size: 201\n"
    )
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert "less than or equal to 100" in only(found, "sync.zendesk.write_batch_size").message
    assert "less than or equal to 200" in only(found, "sync.salesforce.write_batch_size").message
