"""The edits that leave one copy of a Python clone and make the others use it, planned
from the copies' aligned syntax trees (`engine.copies`).

Three shapes are refactored; anything else is refused with the reason:
- whole functions at module level: one definition is kept (the first copy's, or
  `--into`); each other copy becomes an import of it (an alias in the same module),
  or, when its signature or its values differ, a function that calls it;
- methods: each other copy's body becomes a call of the kept method through its
  class (`Kept.method(self, ...)`), its decorators and signature kept;
- runs of statements inside functions: a new module-level function takes the run.
  Its parameters are the values the run reads from the function around it; it
  returns what the run assigns and the code around it uses; each copy becomes a call.

A name local to every copy that maps one to one is a consistent rename and needs no
parameter. A literal, or a module-level name, that differs between copies is a value
they really differ in and becomes a parameter (keyword-only, defaulting to the kept
copy's value, for a kept definition). A module-level name spelled alike but bound to
different things in two modules is such a value too.
"""
from __future__ import annotations

import ast
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.copies import (
    BUILTIN_NAMES, Alignment, Function, Site, Source, align_nodes, bound_names, declared,
    free_loads, function_locals, locate, same_global,
)
from engine.exceptions import RefactorRefusedError, UsageError
from engine.records import Clone
from engine.rewrite import AddParameters, Delegate, Edit, Extract, Import, Replace, Span, Substitute

# Decorators a delegating method may keep, and how it reaches the kept method through them.
_CALL_THROUGH = {"": "{target}", "property": "{target}.fget", "setter": "{target}.fset",
                 "deleter": "{target}.fdel", "staticmethod": "{target}",
                 "classmethod": "{target}.__func__", "abstractmethod": "{target}",
                 "cached_property": "{target}.func"}
_MANGLED = re.compile(r"^__\w*[^_]_?$")
# Calls whose name says nothing about what a run does; not used to name a helper.
_PLAIN_CALLS = BUILTIN_NAMES | {"append", "extend", "get", "format", "join", "items", "keys",
                                "values", "update", "add", "pop", "split", "strip", "encode",
                                "decode", "startswith", "endswith", "replace"}


@dataclass(frozen=True)
class Plan:
    """A refactoring: what it does, in words, and the edits of each file by path."""

    summary: str
    edits: dict[str, tuple[Edit, ...]]


@dataclass
class Parameter:
    """A value the copies differ in: its name, its source text in each copy, and where it
    occurs in the kept copy. For an attribute read under other names (`c.add` and
    `c.compare`) the value is the attribute's name, read with getattr()."""

    name: str
    texts: tuple[str, ...]
    nodes: list[ast.expr] = field(default_factory=list)
    attribute: bool = False


def plan(sources: dict[str, Source], clone: Clone, into: str | None = None,
         name: str | None = None) -> Plan:
    """The refactoring of a clone; RefactorRefusedError when none keeps the behaviour."""
    sites = [locate(sources[f.path], f) for f in clone.fragments]
    _refuse_overlaps(sites)
    keep = _kept(sites, into)
    sites.insert(0, sites.pop(keep))
    shape = _shape(sites)
    if shape == "run":
        return _plan_run(sites, name)
    if name is not None:
        raise UsageError(f"--name names an extracted function; this clone keeps "
                                   f"`{sites[0].statements[0].name}` itself")  # type: ignore[attr-defined]
    return _plan_definitions(sites, methods=shape == "methods")


def _refuse_overlaps(sites: list[Site]) -> None:
    for i, a in enumerate(sites):
        for b in sites[i + 1:]:
            if a.source is b.source and a.first_line <= b.last_line and b.first_line <= a.last_line:
                raise RefactorRefusedError(f"the copies {a.where} and {b.where} overlap")


def _kept(sites: list[Site], into: str | None) -> int:
    """Which copy stays: the first, or the one in the module `--into` names (path or dotted)."""
    if into is None:
        return 0
    for index, site in enumerate(sites):
        if into in (site.source.path, site.source.module):
            return index
    places = ", ".join(sorted({f"{s.source.path} ({s.source.module})" for s in sites}))
    raise UsageError(f"--into {into} is not a module of this clone; choose one of {places}")


def _shape(sites: list[Site]) -> str:
    """`functions`, `methods` or `run`; refused for any other shape or a mix."""
    def shape(site: Site) -> str:
        defs = all(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) for s in site.statements)
        if isinstance(site.owner, ast.Module):
            if defs:
                return "functions"
            if all(isinstance(s, ast.ClassDef) for s in site.statements):
                raise RefactorRefusedError(
                    f"{site.where} is a whole class: merging classes changes what isinstance() "
                    "and the class's name say; make one class inherit from the other by hand")
            raise RefactorRefusedError(f"{site.where} is module-level code, not inside a function: "
                                       "it runs once at import; move it into a function first")
        if isinstance(site.owner, ast.ClassDef):
            if defs:
                return "methods"
            raise RefactorRefusedError(f"{site.where} is class-body code that is not only methods")
        if not site.functions:
            raise RefactorRefusedError(f"{site.where} is module-level code, not inside a function")
        return "run"
    shapes = {shape(site) for site in sites}
    if len(shapes) > 1:
        raise RefactorRefusedError(f"the copies are not alike in shape ({' and '.join(sorted(shapes))})")
    return shapes.pop()


# -- names shared by both shapes -----------------------------------------------------------


@dataclass
class _Differences:
    """What the copies differ in, from the kept copy's view: the values (parameters to be)
    and, per other copy, the renaming of the kept copy's local names."""

    parameters: list[Parameter]
    renames: list[dict[str, str]]


def _differences(sites: list[Site], pairs: list[list[tuple[ast.AST, ast.AST]]],
                 locals_of: list[set[str]], own: tuple[str, ...] = (),
                 skip: set[int] | frozenset[int] = frozenset()) -> _Differences:
    """Classify every difference between the kept copy (0) and each other: consistent
    renames of locals, and values (literals, module-level names) that become parameters.
    `pairs[k - 1]` lists the aligned (kept, other) node pairs, `own` the definitions' own
    names (a recursive call names the copy's own function: a rename too); nodes in `skip`
    (signatures, decorators: each copy keeps its own) give no parameter."""
    values: dict[int, dict[int, str]] = {}  # id of kept node -> copy index -> text
    nodes: dict[int, ast.expr] = {}
    renames = []
    for k, alignment in enumerate(_alignments(sites, pairs), 1):
        renames.append(_renames(sites[0], sites[k], alignment, locals_of[0], locals_of[k], own))
        for x, y in alignment.attributes:
            if id(x) not in skip:
                values.setdefault(id(x), {})[k] = repr(y.attr)
                nodes[id(x)] = x
        for x, y in alignment.values:
            if id(x) in skip:
                continue
            values.setdefault(id(x), {})[k] = sites[k].source.segment(y)
            nodes[id(x)] = x
        for x, a, y, b in alignment.names:
            if isinstance(x, ast.Name) and a not in locals_of[0] and (a, b) not in _own_pairs(own, k) \
                    and id(x) not in skip:
                if a != b or not same_global(a, sites[0].source, sites[k].source):
                    values.setdefault(id(x), {})[k] = b
                    nodes[id(x)] = x
    return _Differences(_parameters(sites, values, nodes, locals_of), renames)


def _alignments(sites: list[Site], pairs: list[list[tuple[ast.AST, ast.AST]]]) -> list[Alignment]:
    return [align_nodes(nodes, (sites[0], sites[k])) for k, nodes in enumerate(pairs, 1)]


def _own_pairs(own: tuple[str, ...], k: int) -> set[tuple[str, str]]:
    return {(own[0], own[k])} if own else set()


def _renames(a: Site, b: Site, alignment: Alignment, local_a: set[str], local_b: set[str],
             own: tuple[str, ...]) -> dict[str, str]:
    """The kept copy's local names -> the other's; refused unless one to one."""
    forward: dict[str, str] = {}
    backward: dict[str, str] = {}
    for x, name_a, _y, name_b in alignment.names:
        if isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef)) and own and name_a == own[0]:
            continue  # the definitions' own names: told apart by the plan
        is_a, is_b = name_a in local_a, name_b in local_b
        if not is_a and not is_b:
            continue
        if is_a != is_b:
            local, other = (a, b) if is_a else (b, a)
            raise RefactorRefusedError(
                f"`{name_a}` and `{name_b}` stand in the same place, but one is local to "
                f"{local.where} and the other comes from outside {other.where}")
        if forward.setdefault(name_a, name_b) != name_b or backward.setdefault(name_b, name_a) != name_a:
            raise RefactorRefusedError(
                f"the copies rename inconsistently: `{name_a}` stands for `{forward[name_a]}` and "
                f"`{name_b}` in {b.where}")
    return forward


def _parameters(sites: list[Site], values: dict[int, dict[int, str]], nodes: dict[int, ast.expr],
                locals_of: list[set[str]]) -> list[Parameter]:
    """One parameter per distinct tuple of values (occurrences with the same values share it)."""
    by_texts: dict[tuple[str, ...], Parameter] = {}
    local = set().union(*locals_of)
    taken = local | set(sites[0].source.bindings) | BUILTIN_NAMES
    for key, texts_of in values.items():
        node = nodes[key]
        attribute = isinstance(node, ast.Attribute)
        kept = repr(node.attr) if isinstance(node, ast.Attribute) else sites[0].source.segment(node)
        texts = (kept, *(texts_of.get(k, kept) for k in range(1, len(sites))))
        if (attribute, texts) not in by_texts:
            used = {p.name for p in by_texts.values()}
            # A module-level name may name its own parameter (`json=json`): it is no local.
            name = _fresh(_value_name(node, sites[0]),
                          (local if isinstance(node, ast.Name) else taken) | used)
            by_texts[attribute, texts] = Parameter(name, texts, attribute=attribute)
        by_texts[attribute, texts].nodes.append(node)
    _refuse_nested(list(by_texts.values()))
    return list(by_texts.values())


def _refuse_nested(parameters: list[Parameter]) -> None:
    """An attribute read through getattr() keeps its object's text: no other value may
    differ inside that object."""
    for p in parameters:
        for node in p.nodes:
            if isinstance(node, ast.Attribute):
                inner = {id(n) for n in ast.walk(node.value)}
                if any(id(other) in inner for q in parameters for other in q.nodes):
                    raise RefactorRefusedError(
                        f"line {node.lineno}: the copies read other attributes of objects that "
                        "differ too; no parameter can stand for both")


def _value_name(node: ast.expr, site: Site) -> str:
    """A parameter's name, read from where the value stands: the keyword it is passed as,
    the name it is compared with or called as, else what kind of value it is."""
    parent = _parents(site).get(id(node))
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        called = isinstance(parent, ast.Call) and parent.func is node
        return f"{_snake(_last_name(node.value))}_{'method' if called else 'attribute'}"
    if isinstance(parent, ast.keyword) and parent.arg:
        return parent.arg
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 \
            and isinstance(parent.targets[0], ast.Name):
        return f"{parent.targets[0].id}_value"
    if isinstance(parent, ast.Compare):
        others = [n for n in [parent.left, *parent.comparators] if isinstance(n, (ast.Name, ast.Attribute))]
        if others:
            return f"{_snake(_last_name(others[0]))}_value"
    if isinstance(parent, ast.Call) and node in parent.args:
        return f"{_snake(_last_name(parent.func))}_arg"
    kinds = {str: "text", bytes: "data", bool: "flag", int: "number", float: "number"}
    return kinds.get(type(getattr(node, "value", None)), "value")


def _parents(site: Site) -> dict[int, ast.AST]:
    return {id(child): node for statement in site.statements for node in ast.walk(statement)
            for child in ast.iter_child_nodes(node)}


def _last_name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _last_name(node.func)
    return "value"


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().strip("_") or "value"


def _fresh(name: str, taken: set[str]) -> str:
    """`name`, or with the smallest number that makes it unused."""
    candidate, number = name, 2
    while candidate in taken or not candidate.isidentifier():
        candidate, number = f"{name}_{number}", number + 1
    return candidate


def _substitutions(site: Site, parameters: list[Parameter]) -> list[Edit]:
    def code(p: Parameter, node: ast.expr) -> str:
        if isinstance(node, ast.Attribute):
            return f"getattr({site.source.segment(node.value)}, {p.name})"
        return p.name
    return [Substitute(*site.source.position(node), code(p, node)) for p in parameters for node in p.nodes]


def _import_name(site: Site, source: Source, name: str, replaced: str | None = None) -> str:
    """The name `name` of `source` goes by once imported into the copy's module: itself,
    unless the module binds it already (other than by `replaced`, the definition the import
    replaces), then prefixed with the source module's last part."""
    bound = site.source.bindings.get(name, ())
    if not bound or (name == replaced and len(bound) == 1):
        return name
    return f"{source.module.rsplit('.', 1)[-1]}_{name}"


def _refuse_cycle(kept: Source, other: Source) -> None:
    if other.module in kept.imported_modules:
        raise RefactorRefusedError(f"{kept.path} imports {other.module}: importing {kept.module} "
                                   f"back into {other.path} would make an import cycle")
    if kept.module == other.module:
        raise RefactorRefusedError(f"{kept.path} and {other.path} are both module {kept.module}")


# -- whole definitions ----------------------------------------------------------------------


def _plan_definitions(sites: list[Site], methods: bool) -> Plan:
    kept = sites[0]
    if methods and len(kept.chain) != 2:
        raise RefactorRefusedError(f"the class around {kept.where} is nested; the other copies "
                                   "could not reach it by name")
    edits: dict[str, list[Edit]] = {}
    for index, definition in enumerate(kept.statements):
        copies = [site.statements[index] for site in sites]
        own = tuple(d.name for d in copies)  # type: ignore[attr-defined]
        pairs = [[(definition, copy)] for copy in copies[1:]]
        locals_of = [function_locals(d) for d in copies]  # type: ignore[arg-type]
        signature = {id(n) for d in copies for part in (d.args, *d.decorator_list)  # type: ignore[attr-defined]
                     for n in ast.walk(part)}
        differences = _differences(sites, pairs, locals_of, own, skip=signature)
        _refuse_unmovable(sites, copies, methods)  # type: ignore[arg-type]
        for k in range(1, len(sites)):
            for path, made in _replace_definition(sites, k, copies, differences, methods).items():
                edits.setdefault(path, []).extend(made)
        if differences.parameters:
            edits.setdefault(kept.source.path, []).extend(
                [AddParameters(definition.lineno, tuple((p.name, p.texts[0]) for p in differences.parameters)),
                 *_substitutions(kept, differences.parameters)])
            _refuse_late_defaults(kept, definition, differences.parameters)
    what = "method" if methods else "function"
    names = ", ".join(f"`{d.name}`" for d in kept.statements)  # type: ignore[attr-defined]
    summary = (f"keep the {what}{'s' * (len(kept.statements) > 1)} {names} of {kept.where}; "
               f"{len(sites) - 1} other cop{'ies' if len(sites) > 2 else 'y'} "
               f"{'call' if methods else 'use'}{'s' * (len(sites) == 2)} it")
    return Plan(summary, {path: tuple(e) for path, e in edits.items()})


def _refuse_unmovable(sites: list[Site], copies: list[Function], methods: bool) -> None:
    """What would behave otherwise once the body runs as the kept copy (in its module and class)."""
    kept, definition = sites[0], copies[0]
    body = [*definition.body]
    for site, copy in zip(sites[1:], copies[1:]):
        if declared(body) and site.source.module != kept.source.module:
            raise RefactorRefusedError(f"{kept.where} declares a global; in another module it "
                                       "would rebind other globals")
        if not methods:
            continue
        other_class, kept_class = site.owner.name, kept.owner.name  # type: ignore[attr-defined]
        for node in ast.walk(definition):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id == "super" and not node.args and other_class != kept_class:
                raise RefactorRefusedError(f"{kept.where} calls super() without arguments: it is bound "
                                           f"to {kept_class}, and {other_class} is another class")
            name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
            if _MANGLED.match(name or "") and other_class.lstrip("_") != kept_class.lstrip("_"):
                raise RefactorRefusedError(f"{kept.where} uses the private name {name}, which Python "
                                           f"mangles per class ({kept_class} and {other_class} differ)")


def _refuse_late_defaults(site: Site, definition: ast.stmt, parameters: list[Parameter]) -> None:
    """A default is evaluated when the `def` runs: a module-level name bound below it fails."""
    for p in parameters:
        line = site.source.binding_lines.get(p.texts[0])
        if line is not None and line >= site.top.lineno:
            raise RefactorRefusedError(f"`{p.texts[0]}` is bound on line {line}, below `{definition.name}`"  # type: ignore[attr-defined]
                                       f": it cannot be the default of a new parameter")


def _replace_definition(sites: list[Site], k: int, copies: list[ast.stmt],
                        differences: _Differences, methods: bool) -> dict[str, list[Edit]]:
    """The edits that make copy k use the kept definition."""
    kept, site = sites[0], sites[k]
    definition, copy = copies[0], copies[k]
    span = Span(copy.lineno, copy.end_lineno or copy.lineno)
    same_module = site.source is kept.source
    if not same_module:
        _refuse_cycle(kept.source, site.source)
    owner = kept.owner.name if methods else definition.name  # type: ignore[attr-defined]
    local = owner if same_module else _import_name(site, kept.source, owner, None if methods else copy.name)  # type: ignore[attr-defined]
    imports: list[Edit] = [] if same_module else [
        Import(kept.source.module, owner, None if local == owner else local)]
    if not methods and _interchangeable(definition, copy, differences):  # type: ignore[arg-type]
        if same_module and definition.lineno < copy.lineno:
            return {site.source.path: [Replace(span, f"{copy.name} = {definition.name}")]}  # type: ignore[attr-defined]
        if not same_module:
            alias = None if copy.name == definition.name else copy.name  # type: ignore[attr-defined]
            return {site.source.path: [Replace(span, ""), Import(kept.source.module, definition.name, alias)]}  # type: ignore[attr-defined]
    if not methods and local == copy.name:  # type: ignore[attr-defined]
        local = f"{kept.source.module.rsplit('.', 1)[-1]}_{owner}"
        imports = [] if same_module else [Import(kept.source.module, owner, local)]
        if same_module:
            raise RefactorRefusedError(f"both copies define `{owner}` in {kept.source.path}")
    target = f"{local}.{definition.name}" if methods else local  # type: ignore[attr-defined]
    call = _delegation(definition, copy, target, differences, k)  # type: ignore[arg-type]
    return {site.source.path: [Delegate(copy.lineno, call), *imports]}


def _interchangeable(definition: Function, copy: Function, differences: _Differences) -> bool:
    """Whether one may stand for the other as it is: no values differ and the signatures are
    the same (names and defaults: callers may pass arguments by keyword)."""
    def shape(d: Function) -> str:
        return ast.dump(ast.Module([*d.decorator_list, d.args], []))
    return not differences.parameters and shape(definition) == shape(copy) \
        and type(definition) is type(copy)


def _delegation(definition: Function, copy: Function, target: str, differences: _Differences,
                k: int) -> str:
    """The body that makes `copy` call the kept definition: its own arguments passed on
    (keyword-only ones under the kept definition's names), the values it differs in by keyword."""
    through = _CALL_THROUGH[_decorator_kind(copy)].format(target=target)
    arguments = [a.arg for a in (*copy.args.posonlyargs, *copy.args.args)]
    if copy.args.vararg:
        arguments.append(f"*{copy.args.vararg.arg}")
    arguments += [f"{kept.arg}={mine.arg}"
                  for kept, mine in zip(definition.args.kwonlyargs, copy.args.kwonlyargs)]
    arguments += [f"{p.name}={p.texts[k]}" for p in differences.parameters]
    if copy.args.kwarg:
        arguments.append(f"**{copy.args.kwarg.arg}")
    call = f"{through}({', '.join(arguments)})"
    if isinstance(copy, ast.AsyncFunctionDef):
        if _yields(copy):
            raise RefactorRefusedError(f"`{copy.name}` is an async generator: a call cannot stand for it")
        return f"return await {call}"
    return f"return (yield from {call})" if _yields(copy) else f"return {call}"


def _decorator_kind(function: Function) -> str:
    """How a delegating copy reaches the kept function through its decorator; refused for
    decorators whose effect a delegation would change."""
    if not function.decorator_list:
        return ""
    if len(function.decorator_list) > 1:
        raise RefactorRefusedError(f"`{function.name}` has several decorators: a delegation "
                                   "through them may not behave alike")
    decorator = function.decorator_list[0]
    name = decorator.attr if isinstance(decorator, ast.Attribute) else getattr(decorator, "id", "")
    if name in _CALL_THROUGH and name:
        return name
    raise RefactorRefusedError(f"`{function.name}` is decorated with @{ast.unparse(decorator)}: a "
                               "delegation through it may not behave alike")


def _yields(function: Function) -> bool:
    return any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in _own_scope(function.body))


def _own_scope(nodes: Sequence[ast.AST]) -> list[ast.AST]:
    """The nodes of a function body that run in its own scope (not in nested functions or classes)."""
    found: list[ast.AST] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(getattr(node, "decorator_list", ()))
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


# -- runs of statements ------------------------------------------------------------------------


def _plan_run(sites: list[Site], name: str | None) -> Plan:
    for site in sites:
        _refuse_control_flow(site)
    locals_of = [set().union(*(function_locals(f) for f in site.functions)) for site in sites]
    pairs = [list(zip(sites[0].statements, site.statements)) for site in sites[1:]]
    if any(len(site.statements) != len(sites[0].statements) for site in sites):
        raise RefactorRefusedError("the copies have different numbers of statements")
    differences = _differences(sites, pairs, locals_of)
    flows = [_flow(site, locals_of[k]) for k, site in enumerate(sites)]
    inputs, outputs = _merged_flow(flows, differences.renames)
    is_async = any(isinstance(n, (ast.Await, ast.AsyncFor, ast.AsyncWith))
                   for n in _own_scope(list(sites[0].statements)))
    if is_async and not all(isinstance(s.functions[-1], ast.AsyncFunctionDef) for s in sites):
        raise RefactorRefusedError("the run awaits, and a copy of it is in a function that is not "
                                   "async: the new function could not be awaited there")
    helper = name or _helper_name(sites, outputs, locals_of)
    if not helper.isidentifier() or keyword.iskeyword(helper):
        raise UsageError(f"--name {helper} is not a Python name")
    _refuse_taken(helper, sites, locals_of)
    params = [*inputs, *(p.name for p in differences.parameters)]
    header = f"{'async ' if is_async else ''}def {helper}({', '.join(params)}):"
    footer = f"return {', '.join(outputs)}" if outputs else ""
    edits: dict[str, list[Edit]] = {}
    kept = sites[0]
    for k, site in enumerate(sites):
        rename = differences.renames[k - 1] if k else {}
        args = [rename.get(n, n) for n in inputs] + [p.texts[k] for p in differences.parameters]
        call = f"{'await ' if is_async else ''}{helper}({', '.join(args)})"
        if outputs:
            call = f"{', '.join(rename.get(n, n) for n in outputs)} = {call}"
        span = Span(site.first_line, site.last_line)
        made = edits.setdefault(site.source.path, [])
        if k == 0:
            made += [Extract(span, kept.top.lineno, header, footer, call),
                     *_substitutions(kept, differences.parameters)]
            continue
        made.append(Replace(span, call))
        if site.source is not kept.source:
            _refuse_cycle(kept.source, site.source)
            made.append(Import(kept.source.module, helper))
    summary = (f"extract the statements of {kept.where} into `{helper}({', '.join(params)})` in "
               f"{kept.source.path}" + (f", returning {', '.join(outputs)}" if outputs else "")
               + f"; {len(sites)} copies call it")
    return Plan(summary, {path: tuple(e) for path, e in edits.items()})


def _refuse_control_flow(site: Site) -> None:
    """A run that leaves its function, its loop or its scope cannot move into another function."""
    where = site.where
    inner = site.functions[-1]
    declared_names = declared([*inner.body])
    for node, loops in _with_loop_depth(list(site.statements)):
        if isinstance(node, ast.Return):
            raise RefactorRefusedError(f"{where} returns from its function (line {node.lineno}): a "
                                       "new function cannot return for it")
        if isinstance(node, (ast.Break, ast.Continue)) and not loops:
            word = "break" if isinstance(node, ast.Break) else "continue"
            raise RefactorRefusedError(f"{where} has a `{word}` (line {node.lineno}) for a loop around "
                                       "the run: a new function cannot leave that loop")
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            raise RefactorRefusedError(f"{where} yields (line {node.lineno}): a new function would "
                                       "make its own generator")
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            raise RefactorRefusedError(f"{where} declares {', '.join(node.names)} "
                                       f"{type(node).__name__.lower()}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)) \
                and node.id in declared_names:
            raise RefactorRefusedError(f"{where} rebinds `{node.id}`, which its function declares "
                                       "global or nonlocal: a new function would bind its own")
        _refuse_scope_bound(node, site)


def _refuse_scope_bound(node: ast.AST, site: Site) -> None:
    """What only works in its own function or class: super(), __class__, locals(), private names."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id == "super" and not node.args:
            raise RefactorRefusedError(f"{site.where} calls super() without arguments, which needs "
                                       "its class")
        if node.func.id in ("locals", "vars", "exec", "eval") and not node.args[1:] \
                and (node.func.id != "vars" or not node.args):
            raise RefactorRefusedError(f"{site.where} calls {node.func.id}(), which reads the "
                                       "function's own variables")
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    if isinstance(name, str) and (name == "__class__" or _MANGLED.match(name)) \
            and any(isinstance(n, ast.ClassDef) for n in site.chain):
        raise RefactorRefusedError(f"{site.where} uses {name}, which belongs to its class")
    if isinstance(node, ast.Delete) and any(isinstance(t, ast.Name) for t in node.targets):
        raise RefactorRefusedError(f"{site.where} deletes a variable (line {node.lineno})")


def _with_loop_depth(nodes: list[ast.AST]) -> list[tuple[ast.AST, int]]:
    """The nodes of the run in its own scope, each with how many loops of the run enclose it."""
    found: list[tuple[ast.AST, int]] = []
    stack = [(n, 0) for n in nodes]
    while stack:
        node, loops = stack.pop()
        found.append((node, loops))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        inner = loops + isinstance(node, (ast.For, ast.AsyncFor, ast.While))
        for child in ast.iter_child_nodes(node):
            body = getattr(node, "body", ())
            in_loop = inner if isinstance(body, list) and child in body else loops
            stack.append((child, in_loop))
    return found


@dataclass(frozen=True)
class _Flow:
    """What one copy's run takes from the function around it and gives back to it."""

    inputs: list[str]
    outputs: list[str]


def _flow(site: Site, local: set[str]) -> _Flow:
    """Inputs: locals the run may read before it assigns them. Outputs: locals it assigns that
    the function reads outside it (a loop's next pass included)."""
    run = list(site.statements)
    first_reads: list[str] = []
    assigned = _scan_block(run, set(), first_reads)
    outside = [n for statement in site.functions[0].body for n in ast.walk(statement)
               if not site.first_line <= getattr(n, "lineno", 0) <= site.last_line]
    bound_outside = bound_names([f.args for f in site.functions]) | \
        {name for n in outside for name in _binds(n)}
    read_outside = {n.id for n in outside if isinstance(n, ast.Name)}
    stored = [n for n in dict.fromkeys(_stored(run)) if n in local]
    inputs = [n for n in dict.fromkeys(first_reads) if n in local and n in bound_outside]
    for n in dict.fromkeys(first_reads):
        if n in local and n not in bound_outside and n in stored and site.in_loop:
            raise RefactorRefusedError(f"{site.where} reads `{n}` from its own previous pass of the "
                                       "loop around it")
    outputs = [n for n in stored if n in read_outside or (site.in_loop and n in first_reads)]
    for n in outputs:
        if n not in assigned and n not in inputs:
            if n not in bound_outside:
                raise RefactorRefusedError(f"{site.where} assigns `{n}` on some paths only, and the "
                                           "code after it reads it")
            inputs.append(n)
    return _Flow(inputs, outputs)


def _binds(node: ast.AST) -> list[str]:
    """The names one node binds by itself (not those of the nodes inside it)."""
    if isinstance(node, ast.Name):
        return [] if isinstance(node.ctx, ast.Load) else [node.id]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.arg):
        return [node.arg]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [a.asname or a.name.split(".")[0] for a in node.names]
    if isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    return []


def _stored(nodes: list[ast.stmt]) -> list[str]:
    """Names the run binds in its own scope, in order."""
    found = []
    for node in _own_scope(nodes):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.append((node.lineno, node.col_offset, node.id))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.append((node.lineno, node.col_offset, node.name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found += [(node.lineno, node.col_offset, a.asname or a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ExceptHandler) and node.name:
            found.append((node.lineno, node.col_offset, node.name))
    comprehension_targets = {id(n) for c in _own_scope(nodes) if isinstance(c, ast.comprehension)
                             for n in ast.walk(c.target) if isinstance(n, ast.Name)}
    targets = {(n.lineno, n.col_offset) for n in _own_scope(nodes) if id(n) in comprehension_targets}
    return [name for line, col, name in sorted(found) if (line, col) not in targets]


def _scan_block(statements: list[ast.stmt], assigned: set[str], first_reads: list[str]) -> set[str]:
    """Walk statements in order: note each name read while not surely assigned; return the
    names surely assigned after them."""
    assigned = set(assigned)
    for statement in statements:
        assigned |= _scan_statement(statement, assigned, first_reads)
    return assigned


def _scan_statement(statement: ast.stmt, assigned: set[str], first_reads: list[str]) -> set[str]:
    """The names a statement surely assigns; its reads of names not yet assigned are noted."""
    def reads(*nodes: ast.AST | None) -> None:
        for node in nodes:
            if node is not None:
                first_reads.extend(n for n in free_loads(node) if n not in assigned)

    if isinstance(statement, (ast.If, ast.While)):
        reads(statement.test)
        body = _scan_block(statement.body, assigned, first_reads)
        orelse = _scan_block(statement.orelse, assigned, first_reads)
        return (body & orelse) if isinstance(statement, ast.If) else set()
    if isinstance(statement, (ast.For, ast.AsyncFor)):
        reads(statement.iter)
        _scan_block(statement.body, assigned | bound_names([statement.target]), first_reads)
        _scan_block(statement.orelse, assigned, first_reads)
        return set()
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        reads(*(i.context_expr for i in statement.items))
        heads = bound_names([i.optional_vars for i in statement.items if i.optional_vars])
        return heads | _scan_block(statement.body, assigned | heads, first_reads)
    if isinstance(statement, ast.Try) or type(statement).__name__ == "TryStar":
        _scan_block(statement.body, assigned, first_reads)  # type: ignore[attr-defined]
        for handler in statement.handlers:  # type: ignore[attr-defined]
            reads(handler.type)
            _scan_block(handler.body, assigned | ({handler.name} if handler.name else set()), first_reads)
        _scan_block(statement.orelse, assigned, first_reads)  # type: ignore[attr-defined]
        return _scan_block(statement.finalbody, assigned, first_reads) - assigned  # type: ignore[attr-defined]
    if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
        reads(statement.target.__class__(id=statement.target.id, ctx=ast.Load()))
    if isinstance(statement, ast.Match):
        reads(statement.subject)
        for case in statement.cases:
            _scan_block(case.body, assigned | bound_names([case.pattern]), first_reads)
        return set()
    reads(statement)
    return bound_names([statement]) if not isinstance(statement, ast.Delete) else set()


def _merged_flow(flows: list[_Flow], renames: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """Inputs and outputs of every copy, in the kept copy's names."""
    inputs, outputs = list(flows[0].inputs), list(flows[0].outputs)
    for flow, rename in zip(flows[1:], renames):
        back = {v: k for k, v in rename.items()}
        inputs += [back.get(n, n) for n in flow.inputs if back.get(n, n) not in inputs]
        outputs += [back.get(n, n) for n in flow.outputs if back.get(n, n) not in outputs]
    return inputs, outputs


def _helper_name(sites: list[Site], outputs: list[str], locals_of: list[set[str]]) -> str:
    """A name from the code: the words the functions around the copies share, else the call the
    run makes most with what it returns, else the run's first assigned name."""
    words = [_words(site.functions[-1].name) for site in sites]
    prefix = _common(words)
    suffix = _common([list(reversed(w)) for w in words])[::-1]
    shared = [w for w in prefix + [w for w in suffix if w not in prefix] if w != "test"]
    names = {site.functions[-1].name for site in sites}
    if shared and "_".join(shared) not in names and "_".join(shared).isidentifier() \
            and not keyword.iskeyword("_".join(shared)):
        return "_".join(shared)
    calls = [_last_name(n.func) for n in _own_scope(list(sites[0].statements)) if isinstance(n, ast.Call)]
    called = [c for c in calls if c not in _PLAIN_CALLS and not c.startswith("assert")]
    if called:
        top = max(dict.fromkeys(called), key=called.count)
        return _snake(top) + (f"_{outputs[0]}" if outputs else "_steps")
    stored = _stored(list(sites[0].statements))
    if stored:
        return f"make_{stored[0]}" if stored[0] in outputs else f"set_up_{stored[0]}"
    return f"{_snake(sites[0].functions[-1].name)}_part"


def _words(name: str) -> list[str]:
    return [w for w in _snake(name).split("_") if w]


def _common(lists: list[list[str]]) -> list[str]:
    common: list[str] = []
    for words in zip(*lists):
        if len(set(words)) != 1:
            break
        common.append(words[0])
    return common


def _refuse_taken(helper: str, sites: list[Site], locals_of: list[set[str]]) -> None:
    for site, local in zip(sites, locals_of):
        if helper in site.source.bindings or helper in local or helper in BUILTIN_NAMES:
            raise RefactorRefusedError(f"`{helper}` is taken in {site.where}; choose a name with --name")
