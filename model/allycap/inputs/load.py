"""Load stage: YAML and CSV files into one raw dict, remembering where every key came from.

Owns: safe YAML parsing (duplicate keys rejected, YAML 1.2 booleans so `NO` stays a string),
`include:` of files inside the inputs folder, CSV tables, `{value:, source:}` wrappers, scenario
overlays deep-merged in order, and `--set key.path=value` overrides applied last. Also records
which element ids an overlay added (validation checks that they are complete) and refuses an id
defined twice within the base inputs (includes add, they never override each other).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from allycap.errors import InputError, InputIssue, Problems
from allycap.inputs.schema import ELEMENT_MAPS, ID_RULE, VALUE_MAPS, clean_id

# Values one file may expand to. It guards against "billion laughs" alias bombs, which expand
# past it long before memory suffers, and leaves room for large generated inputs.
MAX_NODES = 2_000_000
MAX_DEPTH = 64
MAX_INCLUDE_DEPTH = 16
# Bytes in one input file. The default inputs' largest file is 40 kB and a generated
# 100-region, 31-year instance (far past what HiGHS solves here) is 0.9 MB; a file of tens of MB
# is a mistake (a mis-exported table), and reading it would cost gigabytes before validation
# could say so.
MAX_FILE_BYTES = 10_000_000
# PyYAML cannot read a plain key longer than this; it reports a baffling syntax error instead.
YAML_KEY_LIMIT = 1024
WRAPPER_KEYS = {"value", "source", "note"}
# Distinct cell texts remembered per CSV table so that repeated ids, years and values share one
# object; bounded so that a table of distinct ids does not pay for the memo too.
_CSV_MEMO = 10_000
# Maps whose keys are element ids: within one input tree each id is defined once.
_ID_MAPS = frozenset(ELEMENT_MAPS) | frozenset(VALUE_MAPS)


@dataclass(frozen=True, slots=True)  # slots: one per CSV row, so it must be small
class Origin:
    file: str
    line: int | None


@dataclass
class RawInputs:
    """Everything read, before validation: the merged data and where each key path was set."""

    data: dict
    root: Path
    origins: dict[tuple, Origin] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path -> sha256
    cited: dict[tuple, list[str]] = field(default_factory=dict)  # key path -> source ids
    scenarios: list[str] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)
    # Element paths (`("budgets", "x")`) a scenario or `--set` added, i.e. absent from all that
    # was read before it, with where it was added. Validation requires them to be complete.
    added: dict[tuple, Origin] = field(default_factory=dict)

    def locate(self, path: tuple) -> Origin | None:
        """Where the longest known prefix of `path` was set."""
        for cut in range(len(path), -1, -1):
            origin = self.origins.get(tuple(path[:cut]))
            if origin is not None:
                return origin
        return None


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, floats and ints: `NO`/`on` stay strings, `1e6` is a
    number, `010` is ten (not octal eight) and `1:30` stays a string (not sexagesimal 90)."""


_YAML11 = ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:float", "tag:yaml.org,2002:int")
_Loader.yaml_implicit_resolvers = {
    key: [r for r in resolvers if r[0] not in _YAML11]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


def _construct_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    return int(text, 0) if text[:2] in ("0o", "0x") else int(text)


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)

_INT_KEY = re.compile(r"^-?[0-9]+$")


def _key(text: str) -> Any:
    """Mapping keys are ids or years: digits become int, everything else stays a string."""
    return int(text) if _INT_KEY.match(text) else text


class _Reader:
    """Reads one input tree; collects issues instead of stopping at the first."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        self.origins: dict[tuple, Origin] = {}
        self.files: dict[str, str] = {}
        self.cited: dict[tuple, list[str]] = {}
        self.issues = Problems()
        # First definition of each element id in the input tree being read (the base, or one
        # scenario with its includes): a second one in another file is an error, not an override.
        self.defined: dict[tuple, Origin] = {}
        self._nodes = 0

    def record(self, path: tuple, origin: Origin) -> None:
        """Remember where `path` was set; an element id set in two files of one tree is an error."""
        if len(path) > 1 and path[:-1] in _ID_MAPS:
            first = self.defined.setdefault(path, origin)
            if first.file != origin.file:
                kind = ELEMENT_MAPS.get(path[:-1]) or VALUE_MAPS[path[:-1]]
                self.issues.append(
                    InputIssue(
                        f"{kind} {path[-1]!r} is defined twice: at {_at(first)} and at "
                        f"{_at(origin)}. Included files add elements; they never override each "
                        "other.",
                        path,
                        origin.file,
                        origin.line,
                        fix="keep one of the two definitions (to change an element for some "
                        "runs, use a scenario file or --set).",
                    )
                )
        self.origins[path] = origin

    # -- files ---------------------------------------------------------------
    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def read_text(self, path: Path, shown: str, prefix: tuple, bom: bool = False) -> str | None:
        """The file's text, or None with an issue. `bom`: a UTF-8 byte-order mark is allowed
        (and dropped), as Excel writes one at the start of every "CSV UTF-8" file."""
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:  # before reading: a huge file must cost nothing
                self.issues.append(
                    InputIssue(
                        f"file is {size / 1e6:,.1f} MB, above the limit of "
                        f"{MAX_FILE_BYTES / 1e6:,.0f} MB for one input file.",
                        prefix,
                        shown,
                        fix="check that this is the file you meant (a whole model is well under "
                        "1 MB); a larger model can split its tables over several included files.",
                    )
                )
                return None
            raw = path.read_bytes()
        except FileNotFoundError:
            self.issues.append(InputIssue("file not found.", prefix, shown))
            return None
        except OSError as exc:
            self.issues.append(InputIssue(f"cannot read file ({exc.strerror}).", prefix, shown))
            return None
        self.files[shown] = hashlib.sha256(raw).hexdigest()
        if bom and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        elif raw.startswith(b"\xef\xbb\xbf"):
            self.issues.append(
                InputIssue(
                    "file starts with a UTF-8 byte-order mark.",
                    prefix,
                    shown,
                    line=1,
                    fix="save the file as UTF-8 without BOM.",
                )
            )
            return None
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            self.issues.append(
                InputIssue(
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}).",
                    prefix,
                    shown,
                    line=line,
                    fix="save the file as UTF-8.",
                )
            )
            return None

    def load_file(self, path: Path, prefix: tuple, stack: tuple[Path, ...]) -> Any:
        shown = self.display(path)
        if path.suffix.lower() == ".csv":
            return self.load_csv(path, shown, prefix)
        text = self.read_text(path, shown, prefix)
        if text is None:
            return None
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
            long_key = _long_key(text, exc, prefix)
            if long_key is not None:
                where, line, key = long_key
                self.issues.append(
                    InputIssue(
                        f"this key is {len(key):,} characters long; {ID_RULE}. (YAML cannot "
                        f"even read a key over {YAML_KEY_LIMIT:,} characters.)",
                        path=where,
                        file=shown,
                        line=line,
                        fix=f"use a short id, e.g. {clean_id(key)!r}.",
                    )
                )
                return None
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            problem = getattr(exc, "problem", None) or str(exc)
            self.issues.append(
                InputIssue(
                    f"YAML syntax error: {problem}.",
                    path=prefix,
                    file=shown,
                    line=mark.line + 1 if mark else None,
                    fix="correct the YAML syntax at that line (indentation, colons, quotes).",
                )
            )
            return None
        except RecursionError:
            self.issues.append(
                InputIssue(
                    f"document is nested too deeply to read (at most {MAX_DEPTH} levels).",
                    path=prefix,
                    file=shown,
                    fix="flatten the nesting.",
                )
            )
            return None
        finally:
            loader.dispose()
        if node is None:
            self.issues.append(
                InputIssue("file is empty; expected a mapping of keys.", path=prefix, file=shown)
            )
            return None
        if not isinstance(node, MappingNode):
            self.issues.append(
                InputIssue(
                    "expected a mapping of keys at the top of the file, found a "
                    f"{'list' if isinstance(node, SequenceNode) else 'single value'}.",
                    path=prefix,
                    file=shown,
                    line=node.start_mark.line + 1,
                )
            )
            return None
        bomb = _alias_bomb(node, prefix)
        if bomb is not None:
            where, line = bomb
            self.issues.append(
                InputIssue(
                    f"this expands to more than {MAX_NODES:,} values once YAML aliases are "
                    "expanded (the limit per file).",
                    path=where,
                    file=shown,
                    line=line,
                    fix="remove recursive or repeated YAML aliases (&anchor/*alias).",
                )
            )
            return None
        outer_count, self._nodes = self._nodes, 0  # the limit is per file
        try:
            return self.convert(node, prefix, shown, path, stack, loader, 0)
        except _TooLarge as exc:
            self.issues.append(
                InputIssue(
                    str(exc),
                    path=prefix,
                    file=shown,
                    fix="flatten the nesting, or remove recursive YAML aliases (&anchor/*alias).",
                )
            )
            return None
        finally:
            self._nodes = outer_count

    def load_csv(self, path: Path, shown: str, prefix: tuple) -> dict | None:
        text = self.read_text(path, shown, prefix, bom=True)
        if text is None:
            return None
        # Rows are read one at a time (a list of every row would cost more than the table).
        reader = csv.reader(_lines(text))
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            header = []
        except csv.Error as exc:
            self.issues.append(
                InputIssue(f"CSV syntax error in the header: {exc}.", prefix, shown, line=1)
            )
            return None
        if not header or all(not h for h in header):
            self.issues.append(InputIssue("CSV file is empty.", path=prefix, file=shown))
            return None
        has_source = len(header) >= 3 and header[-1] == "source"
        value_col = len(header) - 2 if has_source else len(header) - 1
        if value_col < 1 or header[value_col] != "value":
            self.issues.append(
                InputIssue(
                    "CSV header must be key columns, then 'value', then optionally 'source'; "
                    f"found {header}.",
                    path=prefix,
                    file=shown,
                    line=1,
                    fix="e.g. region,commodity,year,value,source.",
                )
            )
            return None
        table: dict = {}
        keys_memo: dict[str, Any] = {}  # cell text -> key (repeated ids and years share one)
        values_memo: dict[str, float] = {}
        sources_memo: dict[str, list[str]] = {}
        last = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self.issues.append(
                    InputIssue(
                        f"CSV syntax error: {exc}.",
                        path=prefix,
                        file=shown,
                        line=reader.line_num,
                        fix="save the table again as plain CSV (comma-separated, UTF-8).",
                    )
                )
                last = reader.line_num
                continue
            number, last = last + 1, reader.line_num  # the row's first line
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                self.issues.append(
                    InputIssue(
                        f"row has {len(row)} columns, header has {len(header)}.",
                        path=prefix,
                        file=shown,
                        line=number,
                    )
                )
                continue
            keys = []
            for cell in row[:value_col]:
                key = keys_memo.get(cell)
                if key is None:
                    key = _key(cell.strip())
                    if len(keys_memo) < _CSV_MEMO:
                        keys_memo[cell] = key
                keys.append(key)
            if any(k == "" for k in keys):
                self.issues.append(
                    InputIssue("empty key column.", path=prefix, file=shown, line=number)
                )
                continue
            cell = row[value_col]
            value = values_memo.get(cell)
            if value is None:
                try:
                    value = float(cell.strip())
                    if value != value or value in (float("inf"), float("-inf")):
                        raise ValueError
                except ValueError:
                    self.issues.append(
                        InputIssue(
                            f"column 'value' must be a finite number, found {cell.strip()!r}.",
                            path=(*prefix, *keys),
                            file=shown,
                            line=number,
                        )
                    )
                    continue
                if len(values_memo) < _CSV_MEMO:
                    values_memo[cell] = value
            origin = Origin(shown, number)  # one object for the row and its key prefixes
            node = table
            for depth, key in enumerate(keys[:-1]):
                where = (*prefix, *keys[: depth + 1])
                # The first row of this file that names a prefix gives its line; a prefix set by
                # another file (the base's table, under a scenario's) takes this file's line.
                known = self.origins.get(where)
                if known is None or known.file != shown:
                    self.record(where, origin)
                node = node.setdefault(key, {})
                if not isinstance(node, dict):
                    break
            if keys[-1] in node:
                self.issues.append(
                    InputIssue(
                        "duplicate row for these keys.",
                        path=(*prefix, *keys),
                        file=shown,
                        line=number,
                    )
                )
                continue
            node[keys[-1]] = value
            self.record((*prefix, *keys), origin)
            if has_source and row[-1].strip():
                cited = sources_memo.get(row[-1])
                if cited is None:
                    cited = [s.strip() for s in row[-1].split(";") if s.strip()]
                    if len(sources_memo) < _CSV_MEMO:
                        sources_memo[row[-1]] = cited
                self.cited[(*prefix, *keys)] = cited
        return table

    # -- YAML nodes ------------------------------------------------------------
    def convert(self, node, path, shown, file, stack, loader, depth) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _TooLarge(f"document expands to more than {MAX_NODES:,} values.")
        if depth > MAX_DEPTH:
            raise _TooLarge(f"document is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(node, ScalarNode):
            return self.scalar(node, path, shown, loader)
        if isinstance(node, SequenceNode):
            out = []
            for i, item in enumerate(node.value):
                self.origins[(*path, i)] = Origin(shown, item.start_mark.line + 1)
                out.append(self.convert(item, (*path, i), shown, file, stack, loader, depth + 1))
            return out
        # Included files are read first so that keys written beside `include:` win over them,
        # both in value and in the recorded origin.
        result: dict = {}
        own_nodes = []
        seen: dict[Any, int] = {}
        include_node = None
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, ScalarNode):
                self.issues.append(
                    InputIssue("keys must be plain names or years.", path, shown, line)
                )
                continue
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.issues.append(
                    InputIssue(
                        "YAML merge keys (<<) are not supported.",
                        path,
                        shown,
                        line,
                        fix="write the keys out, or use `include:`.",
                    )
                )
                continue
            key = _key(key_node.value)
            if key in seen:
                self.issues.append(
                    InputIssue(
                        f"duplicate key {key!r} (first at line {seen[key]}).",
                        (*path, key),
                        shown,
                        line,
                        fix="keep one of the two entries.",
                    )
                )
                continue
            seen[key] = line
            if key == "include":
                include_node = value_node
            else:
                own_nodes.append((key, line, value_node))
        if include_node is not None:
            for target, line in self._include_targets(include_node, path, shown, loader):
                included = self.include(target, path, shown, line, file, stack)
                if isinstance(included, dict):
                    result = deep_merge(result, included)
        own: dict = {}
        for key, line, value_node in own_nodes:
            self.record((*path, key), Origin(shown, line))
            own[key] = self.convert(value_node, (*path, key), shown, file, stack, loader, depth + 1)
        result = deep_merge(result, own)
        return self._unwrap(result, path, shown)

    def scalar(self, node: ScalarNode, path: tuple, shown: str, loader) -> Any:
        """A scalar's value; an explicit tag that cannot make one (`!!int abc`, `!custom`) is an
        issue, not a crash."""
        try:
            return loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.issues.append(
                InputIssue(
                    f"cannot read {node.value!r} tagged {node.tag}: {problem}.",
                    path,
                    shown,
                    node.start_mark.line + 1,
                    fix="remove the explicit tag (!!int, !!float, !name ...) and write a plain "
                    "value.",
                )
            )
            return None

    def _include_targets(self, node, path, shown, loader):
        if isinstance(node, ScalarNode):
            items = [node]
        elif isinstance(node, SequenceNode):
            items = node.value
        else:
            items = []
        targets = []
        for item in items:
            value = (
                self.scalar(item, (*path, "include"), shown, loader)
                if isinstance(item, ScalarNode)
                else None
            )
            if not isinstance(value, str) or not value:
                self.issues.append(
                    InputIssue(
                        "include: expects a file name or a list of file names.",
                        (*path, "include"),
                        shown,
                        item.start_mark.line + 1,
                    )
                )
                continue
            targets.append((value, item.start_mark.line + 1))
        if not items:
            self.issues.append(
                InputIssue(
                    "include: expects a file name or a list of file names.",
                    (*path, "include"),
                    shown,
                    node.start_mark.line + 1,
                )
            )
        return targets

    def include(self, target: str, path, shown, line, file: Path, stack) -> Any:
        where = (*path, "include")
        if Path(target).is_absolute():
            self.issues.append(
                InputIssue(
                    f"include {target!r} is an absolute path.",
                    where,
                    shown,
                    line,
                    fix="name the file relative to the including file, inside the inputs folder.",
                )
            )
            return None
        resolved = (file.parent / target).resolve()
        try:
            resolved.relative_to(self.root)
        except ValueError:
            self.issues.append(
                InputIssue(
                    f"include {target!r} leads outside the inputs folder {self.root}.",
                    where,
                    shown,
                    line,
                    fix="move the file into the inputs folder (symlinks are followed).",
                )
            )
            return None
        if resolved in stack:
            chain = " -> ".join(self.display(p) for p in (*stack, resolved))
            self.issues.append(InputIssue(f"circular include: {chain}.", where, shown, line))
            return None
        if len(stack) > MAX_INCLUDE_DEPTH:
            self.issues.append(
                InputIssue(
                    f"includes nested more than {MAX_INCLUDE_DEPTH} deep.", where, shown, line
                )
            )
            return None
        if not resolved.is_file():
            self.issues.append(
                InputIssue(f"included file {target!r} not found.", where, shown, line)
            )
            return None
        return self.load_file(resolved, path, (*stack, resolved))

    def _unwrap(self, mapping: dict, path: tuple, shown: str) -> Any:
        """`{value: 3, source: usgs}` is a number that names its source."""
        keys = set(mapping)
        if "value" in keys and "source" in keys and keys <= WRAPPER_KEYS:
            sources = mapping["source"]
            sources = [sources] if isinstance(sources, str) else sources
            if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
                self.issues.append(
                    InputIssue(
                        "source must be a source id or a list of source ids.",
                        (*path, "source"),
                        shown,
                        self.origins.get((*path, "source"), Origin(shown, None)).line,
                    )
                )
                sources = []
            self.cited[path] = list(sources)
            return mapping["value"]
        return mapping


class _TooLarge(Exception):
    pass


def _at(origin: Origin) -> str:
    return origin.file if origin.line is None else f"{origin.file}:{origin.line}"


def _lines(text: str) -> Iterator[str]:
    """The lines of `text`, ends kept, one at a time (csv.reader reads any iterable of lines).

    Line ends may be LF or CRLF (Excel); a file with CR alone (old Mac Excel) is split on CR.
    """
    sep = "\n" if "\n" in text or "\r" not in text else "\r"
    start, size = 0, len(text)
    while start < size:
        end = text.find(sep, start)
        end = size if end < 0 else end + 1
        yield text[start:end]
        start = end


# A key candidate longer than PyYAML's limit: where a key can start (the start of a line, after
# a list dash, or after `{` or `,` in a flow map; not after `key: `, where it would be a long
# value holding a colon), no YAML indicator first, then no `:`, brace, bracket, comma or
# comment, then `:` and a space or the end of the line.
_LONG_KEY = re.compile(
    r"(?:^\s*(?:[-?]\s+)?|[{,]\s*)([^\s:{},\[\]#?-][^:{},\[\]#]{"
    + str(YAML_KEY_LIMIT)
    + r",}?)\s*:(?=\s|$)"
)
_PARENT_KEY = re.compile(r"^(?:-\s+)?([^\s:#{}\[\],'\"][^:#{}\[\],]*?)\s*:(?:\s|$)")


def _long_key(text: str, exc: yaml.YAMLError, prefix: tuple) -> tuple[tuple, int, str] | None:
    """(key path, line, key) of a key too long for PyYAML near where it failed, or None.

    PyYAML gives up on a simple key over 1,024 characters with "mapping values are not allowed
    here" or "could not find expected ':'", which says nothing about the cause. The key path is
    found from the indentation of the lines above (the document could not be parsed).
    """
    marks = (getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None))
    rows = [m.line for m in marks if m is not None]
    if not rows:
        return None
    lines = text.splitlines()
    for number in range(max(min(rows) - 1, 0), min(max(rows) + 1, len(lines))):
        found = _LONG_KEY.search(lines[number])
        if found is None:
            continue
        key = found.group(1).strip().strip("'\"")
        line = lines[number]
        parents: list[Any] = []
        indent = len(line) - len(line.lstrip())
        for above in reversed(lines[:number]):
            stripped = above.lstrip()
            depth = len(above) - len(stripped)
            if not stripped or stripped.startswith("#") or depth >= indent:
                continue
            parent = _PARENT_KEY.match(stripped)
            if parent is None:
                break  # inside a list or a flow collection: stop rather than guess
            parents.insert(0, _key(parent.group(1).strip("'\"")))
            indent = depth
            if depth == 0:
                break
        # Keys written before it on its own line (`facilities: {aaaa...: 1}`) are parents too.
        for before in re.findall(r"([A-Za-z0-9_\-]+)\s*:\s*\{", line[: found.start(1)]):
            parents.append(_key(before))
        return (*prefix, *parents, key), number + 1, key
    return None


def _alias_bomb(root, prefix: tuple) -> tuple[tuple, int | None] | None:
    """Where a document expands past MAX_NODES values once aliases are expanded, or None.

    Counts each distinct node once (memoised), so a "billion laughs" document is caught in
    microseconds instead of after converting MAX_NODES values; names the deepest mapping key
    whose value alone is too large.
    """
    memo: dict[int, int] = {}
    active: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if key in active:  # a recursive alias; the depth limit in `convert` reports it
            return 1
        active.add(key)
        if isinstance(node, MappingNode):
            children = [value for _, value in node.value]
        elif isinstance(node, SequenceNode):
            children = node.value
        else:
            children = []
        total = 1
        for child in children:
            total = min(total + size(child), MAX_NODES + 1)
        active.discard(key)
        memo[key] = total
        return total

    try:
        if size(root) <= MAX_NODES:
            return None
    except RecursionError:
        return None  # too deep: `convert` reports the nesting
    path, line, node = prefix, None, root
    while isinstance(node, MappingNode):
        big = [(k, v) for k, v in node.value if size(v) > MAX_NODES and isinstance(k, ScalarNode)]
        if not big:
            break
        key_node, node = big[0]
        path, line = (*path, _key(key_node.value)), key_node.start_mark.line + 1
    return path, line


def deep_merge(base: Any, over: Any) -> Any:
    """Maps merge key by key; anything else in `over` replaces what `base` had."""
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            merged[key] = deep_merge(merged[key], value) if key in merged else value
        return merged
    return over


def parse_override(text: str) -> tuple[tuple, Any]:
    """`facilities.mine.lead_time=6` -> (('facilities', 'mine', 'lead_time'), 6)."""
    if "=" not in text:
        raise InputError(
            [
                InputIssue(
                    f"--set {text!r} has no '='.",
                    file="--set",
                    fix="write --set key.path=value, e.g. --set discount_rate=0.05.",
                )
            ]
        )
    key, _, value_text = text.partition("=")
    parts = tuple(_key(p.strip()) for p in key.strip().split("."))
    if not key.strip() or any(p == "" for p in parts):
        raise InputError(
            [InputIssue(f"--set {text!r}: empty key path.", file="--set", fix="name a key path.")]
        )
    try:
        value = yaml.load(value_text, Loader=_Loader) if value_text.strip() else None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(
            [
                InputIssue(
                    f"--set {text!r}: value is not valid YAML ({problem}).",
                    parts,
                    "--set",
                    fix="quote the value, e.g. --set 'name=\"a: b\"'.",
                )
            ]
        ) from None
    return parts, value


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _new_elements(before: dict, overlay: dict) -> list[tuple]:
    """Element paths that `overlay` names and `before` lacks: what merging it would add."""
    added = []
    for map_path in ELEMENT_MAPS:
        over = _get(overlay, map_path)
        if isinstance(over, dict):
            old = _get(before, map_path)
            old = old if isinstance(old, dict) else {}
            added.extend((*map_path, eid) for eid in over if eid not in old)
    return added


def _nest(parts: tuple, value: Any) -> dict:
    """`("a", "b"), 1` -> `{"a": {"b": 1}}`: a `--set` written as the overlay it is."""
    for part in reversed(parts):
        value = {part: value}
    return value


def load_inputs(
    path: str | Path,
    scenarios: list[str | Path] | None = None,
    overrides: list[str] | None = None,
) -> RawInputs:
    """Read the main input file, then each scenario in order, then the overrides."""
    main = Path(path)
    reader = _Reader(main.parent)
    shown = reader.display(main)
    if not main.is_file():
        raise InputError(
            [
                InputIssue(
                    "input file not found.",
                    file=shown,
                    fix="pass an existing YAML file, e.g. `allycap solve inputs/base.yaml`.",
                )
            ]
        )
    data = reader.load_file(main.resolve(), (), (main.resolve(),))
    data = data if isinstance(data, dict) else {}
    labels = []
    added: dict[tuple, Origin] = {}
    for scenario in scenarios or []:
        spath = Path(scenario)
        if not spath.is_file():
            reader.issues.append(
                InputIssue(
                    "scenario file not found.",
                    file=str(scenario),
                    fix="pass an existing file, e.g. inputs/scenarios/<name>.yaml.",
                )
            )
            continue
        reader.defined = {}  # a scenario may change any id of the base: only its own tree counts
        overlay = reader.load_file(spath.resolve(), (), (spath.resolve(),))
        if isinstance(overlay, dict):
            where = {
                element: reader.origins.get(element) or Origin(reader.display(spath), None)
                for element in _new_elements(data, overlay)
            }
            # in the order they are written, so that their problems are listed that way
            for element in sorted(where, key=lambda e: where[e].file + f"{where[e].line or 0:09d}"):
                added[element] = where[element]
            data = deep_merge(data, overlay)
        labels.append(spath.stem)
    applied = []
    for text in overrides or []:
        try:
            parts, value = parse_override(text)
        except InputError as exc:
            reader.issues.extend(exc.issues)
            continue
        origin = Origin(f"--set {text}", None)
        new = _new_elements(data, _nest(parts, value))
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part) if isinstance(node, dict) else None
            if not isinstance(child, dict):
                if child is not None:
                    reader.issues.append(
                        InputIssue(
                            f"--set {text!r}: {'.'.join(map(str, parts[: depth + 1]))} is a "
                            "value, not a map.",
                            parts,
                            "--set",
                        )
                    )
                    break
                child = {}
                node[part] = child
                # A map made by this --set: problems found in it are the --set's.
                reader.origins[parts[: depth + 1]] = origin
            node = child
        else:
            if isinstance(node.get(parts[-1]), dict | list):
                _forget(reader, parts)  # what the replaced value held no longer exists
            node[parts[-1]] = value
            reader.origins[parts] = origin
            for element in new:
                added.setdefault(element, origin)
            applied.append(text)
    if reader.issues:
        raise reader.issues.error()
    return RawInputs(
        data=data,
        root=reader.root,
        origins=reader.origins,
        files=reader.files,
        cited=reader.cited,
        scenarios=labels,
        overrides=applied,
        added=added,
    )


def _forget(reader: _Reader, parts: tuple) -> None:
    """Drop the origins and citations recorded below `parts`, whose value a --set replaces, so
    that a problem in the new value is reported at the --set and not at the old file's line."""
    n = len(parts)
    for table in (reader.origins, reader.cited):
        for stale in [k for k in table if len(k) > n and k[:n] == parts]:
            del table[stale]
