"""Load stage: YAML and CSV files into one raw dict, remembering where every key came from.

Owns: safe YAML parsing (duplicate keys rejected, YAML 1.2 booleans so `NO` stays a string),
`include:` of files inside the inputs folder, CSV tables, `{value:, source:}` wrappers, scenario
overlays deep-merged in order, and `--set key.path=value` overrides applied last.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from allycap.errors import InputError, InputIssue

# Values one file may expand to. It guards against "billion laughs" alias bombs, which expand
# past it long before memory suffers, and leaves room for large generated inputs.
MAX_NODES = 2_000_000
MAX_DEPTH = 64
MAX_INCLUDE_DEPTH = 16
WRAPPER_KEYS = {"value", "source", "note"}


@dataclass(frozen=True)
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
        self.issues: list[InputIssue] = []
        self._nodes = 0

    # -- files ---------------------------------------------------------------
    def display(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def read_text(self, path: Path, shown: str) -> str | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            self.issues.append(InputIssue("file not found.", file=shown))
            return None
        except OSError as exc:
            self.issues.append(InputIssue(f"cannot read file ({exc.strerror}).", file=shown))
            return None
        self.files[shown] = hashlib.sha256(raw).hexdigest()
        if raw.startswith(b"\xef\xbb\xbf"):
            self.issues.append(
                InputIssue(
                    "file starts with a UTF-8 byte-order mark.",
                    file=shown,
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
                    file=shown,
                    line=line,
                    fix="save the file as UTF-8.",
                )
            )
            return None

    def load_file(self, path: Path, prefix: tuple, stack: tuple[Path, ...]) -> Any:
        shown = self.display(path)
        if path.suffix.lower() == ".csv":
            return self.load_csv(path, shown, prefix)
        text = self.read_text(path, shown)
        if text is None:
            return None
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as exc:
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
        text = self.read_text(path, shown)
        if text is None:
            return None
        rows = list(csv.reader(text.splitlines()))
        if not rows:
            self.issues.append(InputIssue("CSV file is empty.", path=prefix, file=shown))
            return None
        header = [h.strip() for h in rows[0]]
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
        for number, row in enumerate(rows[1:], start=2):
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
            keys = [_key(cell.strip()) for cell in row[:value_col]]
            if any(k == "" for k in keys):
                self.issues.append(
                    InputIssue("empty key column.", path=prefix, file=shown, line=number)
                )
                continue
            try:
                value = float(row[value_col].strip())
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
            except ValueError:
                self.issues.append(
                    InputIssue(
                        "column 'value' must be a finite number, "
                        f"found {row[value_col].strip()!r}.",
                        path=(*prefix, *keys),
                        file=shown,
                        line=number,
                    )
                )
                continue
            node = table
            for depth, key in enumerate(keys[:-1]):
                self.origins.setdefault((*prefix, *keys[: depth + 1]), Origin(shown, number))
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
            self.origins[(*prefix, *keys)] = Origin(shown, number)
            if has_source and row[-1].strip():
                self.cited[(*prefix, *keys)] = [s.strip() for s in row[-1].split(";") if s.strip()]
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
            self.origins[(*path, key)] = Origin(shown, line)
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
        overlay = reader.load_file(spath.resolve(), (), (spath.resolve(),))
        if isinstance(overlay, dict):
            data = deep_merge(data, overlay)
        labels.append(spath.stem)
    applied = []
    for text in overrides or []:
        try:
            parts, value = parse_override(text)
        except InputError as exc:
            reader.issues.extend(exc.issues)
            continue
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
            node = child
        else:
            node[parts[-1]] = value
            reader.origins[parts] = Origin(f"--set {text}", None)
            applied.append(text)
    if reader.issues:
        raise InputError(reader.issues)
    return RawInputs(
        data=data,
        root=reader.root,
        origins=reader.origins,
        files=reader.files,
        cited=reader.cited,
        scenarios=labels,
        overrides=applied,
    )
