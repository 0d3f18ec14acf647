"""The refactoring core on small sources: what it makes of each shape, and every reason it refuses."""
from __future__ import annotations

import ast
import textwrap

import pytest

from engine.copies import Source
from engine.exceptions import RefactorRefusedError, UsageError
from engine.records import Clone, Fragment
from engine.refactor import refactoring, side_by_side


def fragment(path: str, text: str, which: str) -> Fragment:
    """The lines of the definition named `which`, or of the run between `# run <which>` and
    `# end <which>` comment lines."""
    lines = text.splitlines()
    if f"# run {which}" in text:
        start = next(i for i, line in enumerate(lines) if line.strip() == f"# run {which}") + 2
        end = next(i for i, line in enumerate(lines) if line.strip() == f"# end {which}")
        return Fragment(path, start, end)
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == which:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return Fragment(path, first, node.end_lineno)
    raise AssertionError(f"no {which} in {path}")


def refactor(files: dict[str, str], *places: tuple[str, str], kind: str = "renamed", **options):
    """Refactor the clone whose copies are `places` ((path, definition or run name), ...)."""
    texts = {path: textwrap.dedent(text).lstrip("\n") for path, text in files.items()}
    sources = {path: Source(path, path.removesuffix(".py").replace("/", "."), text)
               for path, text in texts.items()}
    fragments = tuple(fragment(path, texts[path], which) for path, which in places)
    clone = Clone("c0123456789ab", kind, 0.9, 6, 40, fragments, "")  # type: ignore[arg-type]
    made = refactoring(clone, sources, **options)
    for change in made.changes:
        ast.parse(change.after)
    return {c.path: c.after for c in made.changes}, made


def refused(files: dict[str, str], *places: tuple[str, str], **options) -> str:
    with pytest.raises(RefactorRefusedError) as caught:
        refactor(files, *places, **options)
    return str(caught.value)


TWO_RUNS = """
def first(rows):
    total = 0
    # run a
    for row in rows:
        {a}
        total += row
    count = len(rows)
    # end a
    return total, count


def second(items):
    total = 0
    # run b
    for item in items:
        {b}
        total += item
    count = len(items)
    # end b
    return total, count
"""


def runs(a: str, b: str | None = None) -> dict[str, str]:
    return {"m.py": TWO_RUNS.replace("{a}", a).replace("{b}", b if b is not None else a.replace("row", "item"))}


# -- what is made ------------------------------------------------------------------------------


def test_a_run_becomes_a_function_taking_what_it_reads_and_returning_what_is_used():
    """Inputs are the outer values read before assignment; outputs are what the code after reads."""
    after, made = refactor(runs("print(row)"), ("m.py", "a"), ("m.py", "b"))
    text = after["m.py"]
    assert "(rows, total):" in text and "return total, count" in text
    assert "total, count = " in text and "(items, total)" in text
    scope: dict = {}
    exec(compile(text, "m.py", "exec"), scope)
    assert scope["first"]([1, 2]) == (3, 2) and scope["second"]([5]) == (5, 1)


def test_a_differing_literal_in_a_run_is_a_parameter_and_a_rename_is_not():
    """`row * 2` and `item * 3`: the factor is a parameter; row/item is not."""
    after, made = refactor(runs("total += row * 2", "total += item * 3"), ("m.py", "a"), ("m.py", "b"))
    scope: dict = {}
    exec(compile(after["m.py"], "m.py", "exec"), scope)
    assert scope["first"]([1, 2]) == (9, 2) and scope["second"]([1]) == (4, 1)
    assert "item" not in made.summary.split("(")[1].split(")")[0]


def test_methods_of_sibling_classes_delegate_to_the_kept_one():
    """The other class's method calls the kept one through its class; its signature stays."""
    source = """
    class A:
        def size(self, scale=2):
            value = len(self.items) * scale
            if value > 10:
                value = 10
            return value + 1


    class B:
        def size(self, factor=2):
            amount = len(self.items) * factor
            if amount > 10:
                amount = 10
            return amount + 1
    """
    text = textwrap.dedent(source).lstrip("\n")
    lines = text.splitlines()
    a = Fragment("m.py", 2, 6)
    b = Fragment("m.py", 10, 14)
    made = refactoring(Clone("c1", "renamed", 1.0, 5, 40, (a, b), ""), {"m.py": Source("m.py", "m", text)})
    new = made.changes[0].after
    assert "def size(self, factor=2):\n        return A.size(self, factor)" in new
    assert lines[1] in new


def test_functions_in_two_modules_become_an_import():
    """An exact function in another module is replaced by an import sorted into the block."""
    body = """
    import os
    from pkg.z import last


    def {name}(path):
        parts = path.split(os.sep)
        if not parts:
            return None
        head = parts[0].strip()
        return head.lower() or None
    """
    after, made = refactor({"pkg/a.py": body.replace("{name}", "head_of"),
                            "pkg/b.py": body.replace("{name}", "first_part")},
                           ("pkg/a.py", "head_of"), ("pkg/b.py", "first_part"))
    assert after["pkg/b.py"].startswith("import os\nfrom pkg.a import head_of as first_part\n"
                                        "from pkg.z import last\n")
    assert "def first_part" not in after["pkg/b.py"] and "pkg/a.py" not in after


def test_a_helper_name_can_be_given():
    """--name names the extracted function."""
    after, made = refactor(runs("print(row)"), ("m.py", "a"), ("m.py", "b"), name="add_up")
    assert "def add_up(" in after["m.py"] and "add_up(" in made.summary


def test_a_run_that_awaits_becomes_an_async_function_that_is_awaited():
    """An await in the run: the new function is async, and each copy awaits it (no refusal)."""
    files = {"m.py": TWO_RUNS.replace("def first", "async def first").replace("def second", "async def second")
             .replace("{a}", "await row").replace("{b}", "await item")}
    after, _ = refactor(files, ("m.py", "a"), ("m.py", "b"))
    assert "\nasync def " in after["m.py"] and "= await " in after["m.py"]


def test_side_by_side_marks_the_differing_tokens():
    """The near-miss view: both copies in columns, differing tokens in brackets."""
    text = textwrap.dedent(TWO_RUNS).replace("{a}", "print(row)").replace("{b}", "log(item, 1)")
    source = Source("m.py", "m", text)
    clone = Clone("c1", "near", 0.9, 5, 40, (fragment("m.py", text, "a"), fragment("m.py", text, "b")), "")
    shown = side_by_side(clone, {"m.py": source})
    assert "[print]" in shown and "[log]" in shown and " | " in shown


# -- each reason to refuse ----------------------------------------------------------------------


@pytest.mark.parametrize("statement, reason", [
    ("return row", "returns from its function"),
    ("yield row", "yields"),
    ("del row", "deletes a variable"),
    ("print(locals())", "calls locals()"),
    ("super().x()", "calls super() without arguments"),
])
def test_runs_that_leave_their_function_or_scope_are_refused(statement, reason):
    """Each control-flow or scope escape gets its own reason."""
    assert reason in refused(runs(statement), ("m.py", "a"), ("m.py", "b"))


@pytest.mark.parametrize("word", ["break", "continue"])
def test_a_run_leaving_a_loop_around_it_is_refused(word):
    """`break`/`continue` for a loop outside the run: a new function cannot leave it."""
    source = """
    def first(rows):
        for row in rows:
            # run a
            x = row + 1
            if x > 3:
                WORD
            print(x)
            # end a


    def second(items):
        for item in items:
            # run b
            x = item + 1
            if x > 3:
                WORD
            print(x)
            # end b
    """.replace("WORD", word)
    assert f"has a `{word}`" in refused({"m.py": source}, ("m.py", "a"), ("m.py", "b"))


def test_rebinding_a_global_in_a_run_is_refused():
    """A run assigning a name its function declares global cannot move."""
    files = {"m.py": TWO_RUNS.replace("    total = 0\n    # run", "    global total\n    # run")
             .replace("{a}", "print(row)").replace("{b}", "print(item)")}
    assert "declares global or nonlocal" in refused(files, ("m.py", "a"), ("m.py", "b"))


def test_rebinding_a_nonlocal_in_a_run_is_refused():
    source = """
    def outer():
        total = 0
        def first(rows):
            nonlocal total
            # run a
            for row in rows:
                total += row
                print(row)
            count = len(rows)
            # end a
            return count
        def second(items):
            nonlocal total
            # run b
            for item in items:
                total += item
                print(item)
            count = len(items)
            # end b
            return count
        return first, second
    """
    assert "declares global or nonlocal" in refused({"m.py": source}, ("m.py", "a"), ("m.py", "b"))


def test_an_edited_statement_is_no_parameter():
    """`print(row)` against `log(item, 1)`: structure differs, refused with both places."""
    reason = refused(runs("print(row)", "log(item, 1)"), ("m.py", "a"), ("m.py", "b"))
    assert "an edited statement cannot become a parameter" in reason and "m.py:" in reason


def test_inconsistent_renames_are_refused():
    """One name standing for two others is no rename."""
    reason = refused(runs("print(row, row)", "print(item, total)"), ("m.py", "a"), ("m.py", "b"))
    assert "rename" in reason or "stand in the same place" in reason


def test_a_whole_class_module_code_and_a_class_body_are_refused():
    """Shapes no refactoring here handles, each named."""
    classes = """
    class A:
        x = 1
        y = 2

    class B:
        x = 1
        y = 2
    """
    assert "whole class" in refused({"m.py": classes}, ("m.py", "A"), ("m.py", "B"))
    module = "# run a\nX = 1\nY = 2\n# end a\n# run b\nX = 1\nY = 2\n# end b\n"
    assert "module-level code" in refused({"m.py": module}, ("m.py", "a"), ("m.py", "b"))


@pytest.mark.parametrize("use, reason", [("super().go()", "super"),
                                         ("self.__hidden", "private name __hidden")])
def test_a_method_using_super_or_private_names_of_its_class_is_refused(use, reason):
    """Bound to its own class: another class cannot run it."""
    source = """
    class A(Base):
        def go(self):
            self.count = 1
            return USE


    class B(Base):
        def go(self):
            self.count = 1
            return USE
    """.replace("USE", use)
    text = textwrap.dedent(source).lstrip("\n")
    clone = Clone("c1", "exact", 1.0, 3, 40, (Fragment("m.py", 2, 4), Fragment("m.py", 8, 10)), "")
    with pytest.raises(RefactorRefusedError, match=reason):
        refactoring(clone, {"m.py": Source("m.py", "m", text)})


def test_a_delegation_through_an_unknown_decorator_is_refused():
    """A decorator could change how the method is called: refused."""
    source = """
    class A:
        @cache
        def go(self):
            value = self.x + 1
            return value * 2


    class B:
        @cache
        def go(self):
            value = self.x + 1
            return value * 2
    """
    text = textwrap.dedent(source).lstrip("\n")
    clone = Clone("c1", "exact", 1.0, 3, 40, (Fragment("m.py", 2, 5), Fragment("m.py", 9, 12)), "")
    with pytest.raises(RefactorRefusedError, match="decorated with @cache"):
        refactoring(clone, {"m.py": Source("m.py", "m", text)})


def test_an_import_back_into_a_module_that_imports_the_other_is_refused():
    """Keeping the copy in a module that imports the other one would make an import cycle."""
    body = "\n\ndef {n}(a):\n    b = a + 1\n    c = b * 2\n    return c - a\n"
    files = {"p/a.py": "import p.b\n" + body.replace("{n}", "f"), "p/b.py": body.replace("{n}", "g")}
    assert "import cycle" in refused(files, ("p/a.py", "f"), ("p/b.py", "g"))


def test_a_name_that_is_taken_and_a_wrong_into_are_refused():
    """--name must be free where the function goes; --into must name a module of the clone."""
    assert "is taken" in refused(runs("print(row)"), ("m.py", "a"), ("m.py", "b"), name="first")
    with pytest.raises(UsageError, match="--into other.py is not a module of this clone"):
        refactor(runs("print(row)"), ("m.py", "a"), ("m.py", "b"), into="other.py")
    with pytest.raises(UsageError, match="not a Python name"):
        refactor(runs("print(row)"), ("m.py", "a"), ("m.py", "b"), name="2fast")


def test_overlapping_copies_are_refused():
    assert "overlap" in refused(runs("print(row)"), ("m.py", "a"), ("m.py", "a"))
