"""Config loading: includes, YAML errors, and problems that name file, key path and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from config.errors import ConfigError, ConfigProblem
from config.loader import load_config

REPO = Path(__file__).resolve().parent.parent

MATRIX = """\
matrix:
  tiers: [standard]
  calendars:
    office:
      time_zone: UTC
      hours:
        mon: ["09:00-17:00"]
  sla:
    targets:
      - {acknowledge: 4h, next_update: 1d, resolve: 5d}
  triggers:
    - name: severity-1
      level: action-needed
      reason: "Severity {ticket.severity}"
      when: {field: ticket.severity, le: 1}
  routing:
    - {role: technical, primary: support-queue}
"""

MAIN = """\
include: [matrix.yaml]
connections:
  zendesk:
    url: https://acme.zendesk.com
    email_env: ZD_EMAIL
    token_env: ZD_TOKEN
  salesforce:
    client_id_env: SF_ID
    client_secret_env: SF_SECRET
state:
  path: state.sqlite
"""


def write(folder: Path, **files: str) -> Path:
    """Write `name_yaml="..."` files into folder; return the main file's path."""
    for name, text in files.items():
        (folder / name.replace("_yaml", ".yaml")).write_text(
            textwrap.dedent(text), encoding="utf-8"
        )
    return folder / "main.yaml"


def problems(path: Path) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def only(found: list[ConfigProblem], key_path: str) -> ConfigProblem:
    matching = [p for p in found if p.key_path == key_path]
    assert len(matching) == 1, f"expected one problem at {key_path}, got: {[str(p) for p in found]}"
    return matching[0]


@pytest.mark.parametrize("folder", ["example", "minimal"])
def test_shipped_configs_validate_cleanly(folder: str) -> None:
    config = load_config(REPO / "config" / folder / "escalation-sync.yaml")
    assert config.connections.enabled("zendesk")
    assert config.matrix.levels[0] == "none"


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX))
    assert config.connections.enabled_systems() == ("zendesk", "salesforce")
    assert [s.key for s in config.join] == [
        "account_id",
        "organization_external_id",
        "email_domain",
    ]
    assert config.mapping.zendesk.ticket.severity.translate["urgent"] == 1
    assert config.state.path == tmp_path / "state.sqlite"
    assert config.state.lock_file == tmp_path / "state.sqlite.lock"


def test_typo_in_a_key_names_file_line_and_suggests_the_right_key(tmp_path: Path) -> None:
    main = MAIN.replace("    token_env: ZD_TOKEN", "    tokn_env: ZD_TOKEN")
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    problem = only(found, "connections.zendesk.tokn_env")
    assert problem.file == str(tmp_path / "main.yaml")
    assert problem.line == 6
    assert "unknown key 'tokn_env'" in problem.message
    assert "did you mean 'token_env'?" in problem.message


def test_wrong_type_says_what_was_found_and_what_is_expected(tmp_path: Path) -> None:
    main = MAIN.replace(
        "    token_env: ZD_TOKEN\n", "    token_env: ZD_TOKEN\n    timeout_seconds: soon\n"
    )
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "connections.zendesk.timeout_seconds",
    )
    assert problem.line == 7
    assert "found 'soon'" in problem.message
    assert "valid number" in problem.message


def test_http_url_is_rejected(tmp_path: Path) -> None:
    main = MAIN.replace("https://acme.zendesk.com", "http://acme.zendesk.com")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "connections.zendesk.url"
    )
    assert problem.line == 4
    assert "http://" in problem.message and "https://" in problem.message


def test_key_defined_in_two_files_names_both(tmp_path: Path) -> None:
    main = MAIN.replace("include: [matrix.yaml]", "include: [matrix.yaml, more.yaml]")
    more = "state:\n  path: other.sqlite\n"
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX, more_yaml=more)), "state"
    )
    assert problem.file == str(tmp_path / "more.yaml")
    assert problem.line == 1
    assert str(tmp_path / "main.yaml") in problem.message
    assert "line 10" in problem.message


def test_yaml_syntax_error_in_an_include_names_that_file_and_line(tmp_path: Path) -> None:
    broken = MATRIX.replace("  tiers: [standard]", "  tiers: [standard\n  oops: 1")
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=broken))
    assert problem.file == str(tmp_path / "matrix.yaml")
    assert problem.line == 3
    assert "not valid YAML" in problem.message


def test_same_key_twice_in_one_mapping_is_an_error(tmp_path: Path) -> None:
    main = MAIN.replace(
        "    token_env: ZD_TOKEN\n", "    token_env: ZD_TOKEN\n    token_env: OTHER\n"
    )
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)),
        "connections.zendesk.token_env",
    )
    assert problem.line == 7
    assert "lines 6 and 7" in problem.message


def test_missing_include_is_reported_at_the_include(tmp_path: Path) -> None:
    main = MAIN.replace("include: [matrix.yaml]", "include: [matrix.yaml, nowhere.yaml]")
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    problem = only(found, "include")
    assert problem.line == 1 and "'nowhere.yaml' not found" in problem.message


def test_include_cycle_is_an_error_not_a_hang(tmp_path: Path) -> None:
    cyclic = MATRIX + "include: [main.yaml]\n"
    problem = only(problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=cyclic)), "include")
    assert problem.file == str(tmp_path / "matrix.yaml")
    assert "includes itself" in problem.message


def test_error_deep_in_the_matrix_points_at_its_file_and_line(tmp_path: Path) -> None:
    matrix = MATRIX.replace("level: action-needed", "level: action-neded")
    problem = only(
        problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix)), "matrix.triggers[0].level"
    )
    assert problem.file == str(tmp_path / "matrix.yaml")
    assert problem.line == 13
    assert "action-neded" in problem.message


def test_missing_required_key_is_named(tmp_path: Path) -> None:
    main = MAIN.replace("    url: https://acme.zendesk.com\n", "")
    problem = only(
        problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "connections.zendesk.url"
    )
    assert problem.line == 3  # the line of `zendesk:`, which lacks it
    assert "required key 'url' is missing" in problem.message


def test_all_problems_across_files_are_reported_at_once(tmp_path: Path) -> None:
    main = (
        MAIN.replace("https://acme", "http://acme")
        .replace("tokn_env", "token_env")
        .replace(
            "    client_id_env: SF_ID\n", "    client_id_env: SF_ID\n    api_versoin: '62.0'\n"
        )
        + "join:\n  - strategy: email_domian\n"
    )
    matrix = MATRIX.replace("level: action-needed", "level: loud")
    found = problems(write(tmp_path, main_yaml=main, matrix_yaml=matrix))
    paths = {p.key_path for p in found}
    assert {
        "connections.zendesk.url",
        "connections.salesforce.api_versoin",
        "join[0].strategy",
        "matrix.triggers[0].level",
    } <= paths
    assert [p.file for p in found] == sorted(p.file for p in found)  # grouped by file


def test_unknown_top_level_key_suggests_the_section(tmp_path: Path) -> None:
    main = MAIN + "mappings:\n  zendesk: {}\n"
    problem = only(problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX)), "mappings")
    assert problem.line == 12
    assert "did you mean 'mapping'?" in problem.message


def test_problem_text_has_file_line_key_and_message(tmp_path: Path) -> None:
    main = MAIN.replace("https://acme", "http://acme")
    (problem,) = problems(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert str(problem).startswith(
        f"{tmp_path / 'main.yaml'}:4: connections.zendesk.url: found 'http://'"
    )


def test_empty_file_and_non_mapping_file_are_errors(tmp_path: Path) -> None:
    found = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=""))
    assert "file is empty" in only(found, "(file)").message
    found = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml="- just\n- a list\n"))
    assert "expected a mapping" in only(found, "(top level)").message


def test_python_tags_are_refused_by_the_safe_loader(tmp_path: Path) -> None:
    matrix = MATRIX + "extra: !!python/object/apply:os.system ['echo hi']\n"
    found = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    problem = only(found, "extra")
    assert problem.file.endswith("matrix.yaml") and problem.line == 18
    assert "found the YAML tag tag:yaml.org,2002:python/object/apply" in problem.message


# --- anchors, aliases and merge keys ------------------------------------------------------

PLATFORM_TARGETS = """\
    targets:
      - {acknowledge: 4h, next_update: 1d, resolve: 5d}
      - &plat {level: action-needed, acknowledge: 1h, next_update: 4h, resolve: 1d}
      - {<<: *plat, level: executive-review, resolve: 12h}
"""


def test_a_key_beside_a_merge_overrides_the_merged_key(tmp_path: Path) -> None:
    matrix = MATRIX.replace(
        "    targets:\n      - {acknowledge: 4h, next_update: 1d, resolve: 5d}\n", PLATFORM_TARGETS
    )
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    _, first, merged = config.matrix.sla.targets
    assert (merged.level, merged.acknowledge, merged.next_update, merged.resolve) == (
        "executive-review",
        "1h",
        "4h",
        "12h",
    )
    assert (first.level, first.resolve) == ("action-needed", "1d")


def test_earlier_merged_mappings_win_over_later_ones(tmp_path: Path) -> None:
    targets = """\
    targets:
      - {acknowledge: 4h, next_update: 1d, resolve: 5d}
      - &fast {level: action-needed, acknowledge: 15m, next_update: 1h}
      - &slow {level: advisory, acknowledge: 1d, next_update: 2d, resolve: 5d}
      - {<<: [*fast, *slow], tier: standard}
"""
    matrix = MATRIX.replace(
        "    targets:\n      - {acknowledge: 4h, next_update: 1d, resolve: 5d}\n", targets
    )
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    merged = config.matrix.sla.targets[3]
    assert (merged.level, merged.tier, merged.acknowledge, merged.next_update, merged.resolve) == (
        "action-needed",
        "standard",
        "15m",
        "1h",
        "5d",
    )


def test_a_problem_in_a_merged_value_points_at_where_it_is_written(tmp_path: Path) -> None:
    targets = PLATFORM_TARGETS.replace("next_update: 4h", "next_update: 4 hours")
    matrix = MATRIX.replace(
        "    targets:\n      - {acknowledge: 4h, next_update: 1d, resolve: 5d}\n", targets
    )
    found = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    assert [(p.key_path, p.line) for p in found] == [
        ("matrix.sla.targets[1].next_update", 11),
        ("matrix.sla.targets[2].next_update", 11),
    ]


def test_a_key_written_twice_beside_a_merge_is_still_an_error(tmp_path: Path) -> None:
    targets = PLATFORM_TARGETS.replace("resolve: 12h}", "resolve: 12h, resolve: 8h}")
    matrix = MATRIX.replace(
        "    targets:\n      - {acknowledge: 4h, next_update: 1d, resolve: 5d}\n", targets
    )
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    assert problem.key_path == "matrix.sla.targets[2].resolve"
    assert "written twice" in problem.message


def test_merging_something_other_than_a_mapping_is_an_error(tmp_path: Path) -> None:
    targets = PLATFORM_TARGETS.replace("{<<: *plat,", "{<<: fast,")
    matrix = MATRIX.replace(
        "    targets:\n      - {acknowledge: 4h, next_update: 1d, resolve: 5d}\n", targets
    )
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    assert (problem.key_path, problem.line) == ("matrix.sla.targets[2]", 12)
    assert problem.message == (
        "found 'fast' after '<<'; expected an alias of a mapping (<<: *name) or a list of them"
    )


def test_an_alias_in_a_list_is_located_at_the_alias(tmp_path: Path) -> None:
    matrix = MATRIX.replace("  tiers: [standard]", "  tiers: [&std standard]").replace(
        "resolve: 5d}\n", "resolve: 5d}\n      - *std\n"
    )
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    assert (problem.key_path, problem.line) == ("matrix.sla.targets[1]", 11)
    assert problem.message.startswith("found 'standard'; expected")


def test_billion_laughs_is_refused_before_it_expands(tmp_path: Path) -> None:
    names = "abcdefghi"
    bomb = "lol:\n  a: &a [" + ", ".join(["lol"] * 9) + "]\n"
    for previous, name in zip(names, names[1:], strict=False):
        bomb += f"  {name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=bomb + MATRIX))
    assert problem.file == str(tmp_path / "matrix.yaml")
    assert (problem.key_path, problem.line) == ("lol.e[0]", 6)
    assert "expand to more than 10,000 values" in problem.message


def test_ordinary_aliases_repeat_their_values(tmp_path: Path) -> None:
    routing = "  routing:\n    - &queue {role: technical, primary: support-queue}\n    - *queue\n"
    matrix = MATRIX.replace(
        "  routing:\n    - {role: technical, primary: support-queue}\n", routing
    )
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    assert [rule.primary for rule in config.matrix.routing] == ["support-queue"] * 2


# --- YAML 1.2 scalars: only true/false are booleans; no octal or base-60 surprises --------


def test_yes_no_on_off_are_words_not_booleans(tmp_path: Path) -> None:
    matrix = MATRIX.replace(
        "  tiers: [standard]", "  levels: [no, yes, on, action-needed]\n  tiers: [standard]"
    ).replace("      time_zone: UTC\n", "      time_zone: UTC\n      holidays: {country: NO}\n")
    config = load_config(write(tmp_path, main_yaml=MAIN, matrix_yaml=matrix))
    assert config.matrix.levels == ("no", "yes", "on", "action-needed")
    assert config.matrix.calendars["office"].holidays.country == "NO"


def test_numbers_with_a_leading_zero_or_colons_stay_as_written(tmp_path: Path) -> None:
    main = MAIN + (
        "mapping:\n  zendesk:\n    ticket:\n      severity:\n"
        "        translate: {010: 1, 0x10: 2, '1:30': 3, 1:20: 4, 1_000: 4}\n"
    )
    config = load_config(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    translate = config.mapping.zendesk.ticket.severity.translate
    assert {"010", "16", "1:30", "1:20", "1_000"} <= set(translate)


def test_booleans_are_still_booleans(tmp_path: Path) -> None:
    main = MAIN.replace("  salesforce:\n", "  salesforce:\n    enabled: false\n")
    config = load_config(write(tmp_path, main_yaml=main, matrix_yaml=MATRIX))
    assert config.connections.enabled_systems() == ("zendesk",)


# --- file encodings ------------------------------------------------------------------------


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    main = write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX)
    (tmp_path / "matrix.yaml").write_bytes(b"\xef\xbb\xbf" + MATRIX.encode())
    assert load_config(main).matrix.tiers[0] == "standard"


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        (MATRIX.encode("utf-16"), "found a UTF-16 byte order mark; expected UTF-8 (save the file as UTF-8)"),
        (MATRIX.encode("utf-16-le"), "found NUL bytes, as in UTF-16 or UTF-32; expected UTF-8 (save the file as UTF-8)"),
        (MATRIX.encode("utf-32"), "found a UTF-32 byte order mark; expected UTF-8 (save the file as UTF-8)"),
    ],
)  # fmt: skip
def test_a_file_that_is_not_utf8_is_refused_by_name(
    tmp_path: Path, encoded: bytes, message: str
) -> None:
    main = write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX)
    (tmp_path / "matrix.yaml").write_bytes(encoded)
    (problem,) = problems(main)
    assert (problem.file, problem.key_path, problem.line) == (
        str(tmp_path / "matrix.yaml"),
        "(file)",
        None,
    )
    assert problem.message == message


def test_a_latin1_byte_is_reported_with_its_line(tmp_path: Path) -> None:
    main = write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX)
    (tmp_path / "matrix.yaml").write_bytes(("# Zürich\n" + MATRIX).encode("latin-1"))
    (problem,) = problems(main)
    assert (problem.key_path, problem.line) == ("(file)", 1)
    assert (
        problem.message
        == "found the byte 0xfc, which is not UTF-8; expected UTF-8 (save the file as UTF-8)"
    )


def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    deep = "deep: " + "[" * 1000 + "]" * 1000 + "\n"
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX + deep))
    assert (problem.file, problem.key_path, problem.line) == (
        str(tmp_path / "matrix.yaml"),
        "(yaml)",
        18,
    )
    assert problem.message == (
        "found lists and mappings nested more than 50 levels deep; expected a few levels"
    )


def test_aliases_cannot_nest_past_the_depth_limit_either(tmp_path: Path) -> None:
    chain = "chain:\n  l0: &l0 [[[[[[[[[[x]]]]]]]]]]\n"
    for level in range(1, 12):
        chain += f"  l{level}: &l{level} [[[[[[[[[[*l{level - 1}]]]]]]]]]]\n"
    (problem,) = problems(write(tmp_path, main_yaml=MAIN, matrix_yaml=MATRIX + chain))
    assert (problem.key_path, problem.line) == ("chain.l4[0][0][0][0][0][0][0][0][0][0]", 23)
    assert problem.message == (
        "aliases (*name) here nest lists and mappings more than 50 levels deep; expected a few "
        "levels"
    )
