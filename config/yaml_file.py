"""Build the data of one YAML file safely, recording the line of every key and item.

Safe means more than PyYAML's SafeLoader: YAML 1.2 scalars (config/yaml_schema.py), only UTF-8
text (config/file_text.py), and bounds on what aliases may expand to, so a hostile or mistaken
file is one clear problem rather than minutes of work, a MemoryError or a RecursionError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser, in PyYAML's wheels; without it the pure-Python parser does
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    CParser = None  # type: ignore[assignment, misc]

from config.errors import ConfigProblem
from config.file_text import read_utf8
from config.source_map import Location, Path_, SourceMap, format_key_path
from config.yaml_schema import MERGE_TAG, Yaml12Resolver

_PLAIN_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


# How many values aliases may add to a file, all aliases together. A few anchors reused in
# many places stay far below it; nested aliases that multiply (a "billion laughs" document
# expands 9 aliases of 9 aliases ... to a billion values) reach it after milliseconds, long
# before they would exhaust memory.
MAX_ALIAS_VALUES = 10_000
# How deep lists and mappings may nest. A configuration needs about ten levels; thousands (as
# written, or through aliases of aliases) would end in a RecursionError instead of a message.
MAX_DEPTH = 50
_A_FEW_LEVELS = f"more than {MAX_DEPTH} levels deep; expected a few levels"


class _Refused(Exception):
    """A file too hostile to build; stops building it, with the one problem to report."""

    def __init__(self, path: str, line: int | None, message: str):
        super().__init__(path, line, message)
        self.path = path
        self.line = line
        self.message = message


class LocatingLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    yaml.constructor.SafeConstructor,
    Yaml12Resolver,
):
    """A safe loader that builds plain data while recording the line of every key and item.

    Scalars resolve by YAML 1.2 (config/yaml_schema.py). Aliases are expanded by `build`, which
    counts the values they add and refuses a file past MAX_ALIAS_VALUES. Merge keys (`<<`)
    follow the YAML merge key spec: keys written beside `<<` override merged ones, and earlier
    mappings in `<<: [*a, *b]` override later ones.
    """

    def __init__(self, stream: str, file: str, sources: SourceMap, problems: list[ConfigProblem]):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        Yaml12Resolver.__init__(self)
        self.file = file
        self.sources = sources
        self.problems = problems
        self._active: set[int] = set()
        self._built: set[int] = set()
        self._alias_values = 0
        self._expanding: tuple[Path_, int | None] | None = None  # the outermost alias in use
        # The composer hands an alias over as the anchored node itself, whose marks are the
        # anchor's; remember where each alias was written: (id(parent), index or id(key)).
        self._alias_lines: dict[tuple[int, int], int] = {}
        self._depth = 0  # of the node being composed

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """PyYAML's composer, plus where each alias was written and a bound on nesting."""
        line = self.peek_event().start_mark.line + 1
        if parent is not None and self.check_event(yaml.AliasEvent):
            slot = index if isinstance(index, int) else id(index)
            self._alias_lines[(id(parent), slot)] = line
        if self._depth >= MAX_DEPTH:
            raise _Refused("(yaml)", line, f"found lists and mappings nested {_A_FEW_LEVELS}")
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _line(self, parent: yaml.Node, slot: int, written: yaml.Node) -> int:
        """The line where the value at `slot` of `parent` was written (the alias, if one)."""
        return self._alias_lines.get((id(parent), slot), written.start_mark.line + 1)

    def build(self, node: yaml.Node, path: Path_, line: int | None = None) -> Any:
        """The plain data of `node` at `path`; `line` is where it was written (an alias's)."""
        if id(node) in self._active:  # an alias that contains itself
            self._report(node, path, "an anchor refers to itself; expected a finite value")
            return None
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_COLLECTION_TAGS:
            # We build collections ourselves, so refuse tags here that SafeLoader would refuse.
            self._report(
                node, path, f"found the YAML tag {node.tag}; expected plain mappings and lists"
            )
            return None
        outermost = self._count_alias_value(node, path, line)
        if len(path) > MAX_DEPTH:  # as written the depth is bounded; aliases can add to it
            where, alias_line = self._expanding or (path, line)
            message = f"aliases (*name) here nest lists and mappings {_A_FEW_LEVELS}"
            raise _Refused(format_key_path(where), alias_line, message)
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._build_mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                return self._build_sequence(node, path)
            return self._scalar(node, path)
        finally:
            self._active.discard(id(node))
            if outermost:
                self._expanding = None

    def _count_alias_value(self, node: yaml.Node, path: Path_, line: int | None) -> bool:
        """Count a node built again (through an alias); True when it starts an expansion."""
        if id(node) not in self._built:
            self._built.add(id(node))
            return False
        outermost = self._expanding is None
        if outermost:
            self._expanding = (path, line)
        self._alias_values += 1
        if self._alias_values > MAX_ALIAS_VALUES:
            where, alias_line = self._expanding or (path, line)
            message = (
                f"aliases (*name) here expand to more than {MAX_ALIAS_VALUES:,} values; expected "
                "anchors that repeat a few values, not aliases of aliases that multiply"
            )
            raise _Refused(format_key_path(where), alias_line, message)
        return outermost

    def _build_mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        merges: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges.append((key_node, value_node))
                continue
            key = self._scalar(key_node, path)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) or key is None:
                self._report(
                    key_node,
                    path,
                    f"found a key of type {type(key).__name__}; expected a plain word",
                )
                continue
            if key in first_line:
                self._report(
                    key_node,
                    path + (key,),
                    f"key '{key}' is written twice in this mapping (lines {first_line[key]} and "
                    f"{line}); expected each key once",
                )
                continue
            first_line[key] = line
            self.sources.add(path + (key,), Location(self.file, line))
            result[key] = self.build(
                value_node, path + (key,), self._line(node, id(key_node), value_node)
            )
        merged: dict[Any, Any] = {}
        for key_node, value_node in merges:
            self._merge(merged, result, node, key_node, value_node, path)
        return {**merged, **result}

    def _merge(
        self,
        merged: dict[Any, Any],
        own: dict[Any, Any],
        node: yaml.MappingNode,
        key_node: yaml.Node,
        value_node: yaml.Node,
        path: Path_,
    ) -> None:
        """Add the keys of `<<: value_node` that neither `own` nor an earlier merge has."""
        slots: list[tuple[yaml.Node, int, yaml.Node]]
        if isinstance(value_node, yaml.SequenceNode):
            slots = [(value_node, index, item) for index, item in enumerate(value_node.value)]
        else:
            slots = [(node, id(key_node), value_node)]
        for parent, slot, source in slots:
            if not isinstance(source, yaml.MappingNode):
                found = f"{source.value!r}" if isinstance(source, yaml.ScalarNode) else "a list"
                self._report(
                    key_node,
                    path,
                    f"found {found} after '<<'; expected an alias of a mapping (<<: *name) or "
                    "a list of them",
                )
                continue
            # Build into a scratch map: the lines of overridden keys must not shadow their own.
            scratch = SourceMap(self.file)
            sources, self.sources = self.sources, scratch
            try:
                values = self.build(source, path, self._line(parent, slot, source))
            finally:
                self.sources = sources
            for key, value in (values or {}).items():
                if key in own or key in merged:
                    continue
                merged[key] = value
                for sub_path, location in scratch.locations.items():
                    if sub_path[len(path) : len(path) + 1] == (key,):
                        self.sources.add(sub_path, location)

    def _scalar(self, node: yaml.Node, path: Path_) -> Any:
        # PyYAML builds dates itself and raises a bare ValueError for one like 2026-02-30.
        try:
            return self.construct_object(node, deep=True)
        except ValueError as error:
            self._report(
                node,
                path,
                f"found {node.value!r}, which is not a real date ({error}); expected YYYY-MM-DD",
            )
            return None

    def _build_sequence(self, node: yaml.SequenceNode, path: Path_) -> list[Any]:
        items = []
        for index, item_node in enumerate(node.value):
            line = self._line(node, index, item_node)
            self.sources.add(path + (index,), Location(self.file, line))
            items.append(self.build(item_node, path + (index,), line))
        return items

    def _report(self, node: yaml.Node, path: Path_, message: str) -> None:
        self.problems.append(
            ConfigProblem(self.file, format_key_path(path), message, node.start_mark.line + 1)
        )


class LibyamlLocatingLoader(LocatingLoader):
    """LocatingLoader on the events of libyaml's parser (PyYAML's C binding): the same nodes,
    lines and checks, parsed ten times faster (the pure-Python scanner took about 40 ms of
    every config load, so of every command's start). Composition stays PyYAML's own in
    Python, where LocatingLoader records alias lines and bounds the nesting."""

    def __init__(self, stream: str, file: str, sources: SourceMap, problems: list[ConfigProblem]):
        super().__init__("", file, sources, problems)  # its own reader and parser stay unused
        assert CParser is not None, "libyaml is not available"
        self._events = CParser(stream)

    def check_event(self, *choices: Any) -> bool:
        return bool(self._events.check_event(*choices))

    def peek_event(self) -> Any:
        return self._events.peek_event()

    def get_event(self) -> Any:
        return self._events.get_event()

    def dispose(self) -> None:
        self._events.dispose()
        super().dispose()


def _compose(
    text: str, file: str, sources: SourceMap, problems: list[ConfigProblem]
) -> tuple[LocatingLoader, yaml.Node | None]:
    """The file's loader and its document node, parsed by libyaml when PyYAML has it. A text
    libyaml refuses is parsed again by PyYAML's own parser, whose words (and lines) the
    problem reports, as before libyaml was used; nothing was recorded before the refusal."""
    if CParser is not None:
        fast = LibyamlLocatingLoader(text, file, sources, problems)
        try:
            return fast, fast.get_single_node()
        except yaml.YAMLError:
            fast.dispose()
        except BaseException:
            fast.dispose()
            raise
    loader = LocatingLoader(text, file, sources, problems)
    try:
        return loader, loader.get_single_node()
    except BaseException:
        loader.dispose()
        raise


def _yaml_error_problem(file: str, error: yaml.YAMLError) -> ConfigProblem:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    text = f"{context}, {problem}" if context else problem
    return ConfigProblem(file, "(yaml)", f"not valid YAML: {text}", mark.line + 1 if mark else None)


def read_yaml_file(path: Path, sources: SourceMap, problems: list[ConfigProblem]) -> Any:
    """The file's data; None after reporting why there is none."""
    file = str(path)
    text, unreadable = read_utf8(path)
    if text is None:
        problems.extend([unreadable] if unreadable else [])
        return None
    loader: LocatingLoader | None = None  # disposed of by _compose when it raises
    try:
        loader, node = _compose(text, file, sources, problems)
        if node is None:
            problems.append(
                ConfigProblem(file, "(file)", "file is empty; expected a mapping of keys")
            )
            return None
        return loader.build(node, ())
    except yaml.YAMLError as error:
        problems.append(_yaml_error_problem(file, error))
        return None
    except _Refused as refused:
        problems.append(ConfigProblem(file, refused.path, refused.message, refused.line))
        return None
    finally:
        if loader is not None:
            loader.dispose()
