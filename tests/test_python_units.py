"""Tests for engine.python_units: statements to units, noise and data rules."""
import ast
import gc
import subprocess
import sys
import textwrap

from engine.python_units import NoisePolicy, python_fingerprints


def units_of(code: str, policy: NoisePolicy = NoisePolicy()):
    source = textwrap.dedent(code).encode()
    return python_fingerprints(source, ast.parse(source), policy)


def top(code: str, policy: NoisePolicy = NoisePolicy()):
    prints = units_of(code, policy)
    first = prints.blocks[0]
    return prints.units[first.first:first.first + first.count]


def test_a_function_is_one_unit_covering_its_body_with_nested_blocks():
    """A def is one unit at module level; its body is a block of its own."""
    prints = units_of("""
        def f(a):
            x = a + 1
            if x:
                return x
            return 0
    """)
    assert prints.units[0].start_line == 2 and prints.units[0].end_line == 6
    assert [b.parent for b in prints.blocks] == [-1, 0, 2]


def test_reformatted_copy_has_the_same_exact_hash():
    """Layout and comments inside a function do not change its hash."""
    one = top("def f(a, b):\n    return (a +\n            b)  # sum\n\nx = 1\n")
    two = top("def f(a,b):\n    # add them\n    return (a + b)\n\nx = 1\n")
    assert one[0].exact == two[0].exact


def test_renamed_copy_shares_only_the_renamed_hash():
    """Other names and constants: renamed hash equal, exact hash not."""
    one = top("def f(a, b):\n    c = a * 2\n    return c + b\n")[0]
    two = top("def g(x, y):\n    z = x * 3\n    return z + y\n")[0]
    assert one.renamed == two.renamed and one.exact != two.exact


def test_docstrings_are_not_units():
    """A docstring is documentation, like a comment."""
    with_doc = top('def f(a):\n    """Doc."""\n    return a\n')[0]
    without = top('def f(a):\n    return a\n')[0]
    assert with_doc.exact == without.exact


def test_literal_tables_keep_their_contents_in_the_renamed_hash():
    """Two tables of one shape but other values do not match as renamed."""
    one = top("A = [(1, 'a'), (2, 'b'), (3, 'c')]\n")[0]
    two = top("A = [(4, 'd'), (5, 'e'), (6, 'f')]\n")[0]
    assert one.renamed != two.renamed
    assert top("A = [(4, 'd'), (5, 'e'), (6, 'f')]\n", NoisePolicy(data=True))[0].renamed == \
        top("A = [(1, 'a'), (2, 'b'), (3, 'c')]\n", NoisePolicy(data=True))[0].renamed


def test_repetitive_blocks_are_data():
    """A run of one repeated call shape keeps its literals (a table written as calls)."""
    one = top("reg('a', 1)\nreg('b', 2)\nreg('c', 3)\nreg('d', 4)\n")
    two = top("reg('e', 5)\nreg('f', 6)\nreg('g', 7)\nreg('h', 8)\n")
    assert [u.renamed for u in one] != [u.renamed for u in two]


def test_noise_weighs_nothing():
    """Imports, stubs, overloads, store-only __init__ and delegations have zero weight."""
    units = top("""
        import os
        from typing import overload
        @overload
        def f(x: int) -> int: ...
        def g():
            raise NotImplementedError
        class C:
            def __init__(self, a, b):
                super().__init__()
                self.a = a
                self.b = b
            def h(self):
                return self.a.h()
    """)
    assert [u.noise for u in units] == [True, True, True, True, False]
    cls = units[-1]
    assert cls.lines == 1  # only the class line: both methods are noise


def test_policy_turns_noise_back_on():
    """Each kind of noise can be reported again."""
    units = top("import os\nimport sys\n", NoisePolicy(imports=True))
    assert not any(u.noise for u in units)


def test_handlers_and_cases_are_part_of_the_compound_hash():
    """`except ValueError` and `except KeyError` bodies make different units."""
    one = top("try:\n    f()\nexcept ValueError:\n    g()\n")[0]
    two = top("try:\n    f()\nexcept KeyError:\n    g()\n")[0]
    assert one.exact != two.exact
    case_one = top("match x:\n    case [a]:\n        f(a)\n")[0]
    case_two = top("match x:\n    case {'k': a}:\n        f(a)\n")[0]
    assert case_one.renamed != case_two.renamed


def test_tables_passed_to_a_call_and_long_strings_are_data():
    """`table.update({...})` and a multi-line string keep their contents in the renamed hash."""
    one = top("m.update({1: 'a', 2: 'b', 3: 'c'})\nT = '''x\ny'''\n")
    two = top("m.update({4: 'd', 5: 'e', 6: 'f'})\nT = '''p\nq'''\n")
    assert [u.renamed for u in one] != [u.renamed for u in two]
    assert [u.renamed == u.exact for u in one] == [True, True]
    call = top("self.assertEqual(f(x), [1, 2, 3])\n")[0]
    assert call.renamed != call.exact  # a check, not a table: renamed as usual


def test_getters_setters_and_two_line_delegations_are_noise():
    """Thin functions weigh nothing: their copies are boilerplate, not logic."""
    prints = units_of("""
        class C:
            def get(self):
                return self._items[0]
            def put(self, value):
                self._items[0] = value
            def add(self, a, b):
                a = convert(a)
                return a.add(b, context=self)
            def work(self, a):
                if a:
                    return a.run()
    """)
    body = prints.blocks[1]
    methods = prints.units[body.first:body.first + body.count]
    assert [m.noise for m in methods] == [True, True, True, False]
    assert prints.units[0].lines == 1 + methods[3].lines


def test_protocol_boilerplate_is_noise():
    """Short __eq__/__repr__ and NotImplemented checks weigh nothing."""
    prints = units_of("""
        class C:
            def __repr__(self):
                return f"C({self.a!r})"
            def __eq__(self, other):
                if not isinstance(other, C):
                    return NotImplemented
                return self.a == other.a and self.b == other.b
            def merge(self, other):
                if not isinstance(other, C):
                    return NotImplemented
                total = self.a + other.a
                for item in other.b:
                    self.b.append(item)
                return C(total, self.b, self.c)
            def run(self, items):
                for item in items:
                    if item:
                        self.a += item
    """)
    body = prints.blocks[1]
    methods = prints.units[body.first:body.first + body.count]
    assert [m.noise for m in methods] == [True, True, False, False]


def _dispatch(name: str, branches: int) -> str:
    cases = "".join(f"    {'if' if i == 0 else 'elif'} kind == {i}:\n        return handle_{i}(kind)\n"
                    for i in range(branches))
    return f"def {name}(kind):\n{cases}"


def test_a_long_elif_chain_is_walked_without_deep_recursion():
    """Generated dispatch code: each `elif` nests one more `If`, deeper than the
    interpreter's frame limit allows a recursive walk; the chain still gives a
    unit per branch and one unit for the whole function."""
    branches = 1000
    prints = units_of(_dispatch("dispatch", branches))
    assert len(prints.units) == 1 + 2 * branches
    assert (prints.units[0].start_line, prints.units[0].end_line) == (1, 1 + 2 * branches)
    assert prints.units[0].lines == 1 + 2 * branches
    copy = units_of(_dispatch("route", branches)).units[0]
    assert copy.renamed == prints.units[0].renamed and copy.exact != prints.units[0].exact


def test_a_run_of_one_shape_is_data_and_its_function_hash_keeps_it():
    """In a mixed block only the run of three alike statements keeps its literals,
    and the enclosing function's renamed hash is made from those kept literals."""
    def function(a, b, c):
        return f"""
            def setup(app, debug):
                app.route("{a}")
                app.route("{b}")
                app.route("{c}")
                level = 10 if debug else 20
                app.configure(level)
                return app
        """

    units = units_of(function("/", "/users", "/items")).units
    run, rest = units[1:4], units[4:]
    assert [u.start_line for u in run] == [3, 4, 5]
    assert all(u.renamed == u.exact for u in run)
    assert all(u.renamed != u.exact for u in rest)
    other = units_of(function("/a", "/b", "/c")).units[0]
    assert other.renamed != units[0].renamed
    assert units_of(function("/a", "/b", "/c"), NoisePolicy(data=True)).units[0].renamed == \
        units_of(function("/", "/users", "/items"), NoisePolicy(data=True)).units[0].renamed


def test_a_file_leaves_no_cyclic_garbage():
    """The pool fingerprints with the collector off: nothing a file's walk builds may
    outlive it in a reference cycle."""
    code = _dispatch("dispatch", 20) + "\nclass C:\n    def m(self, x):\n        return x + 1\n"
    units_of(code)  # first call: lazy imports are not the walk's garbage
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        units_of(code)
        assert gc.collect() == 0
    finally:
        if was_enabled:
            gc.enable()


def test_per_file_parsing_imports_nothing_of_the_matcher():
    """A pool worker loads the parsing modules only: no matcher, near-miss grouping
    or detection code comes with them."""
    probe = ("import sys, engine.fingerprint, engine.partial, engine.python_units, "
             "engine.token_units, engine.near_sign; "
             "print(sorted(m for m in sys.modules if m in "
             "('engine.match', 'engine.near', 'engine.detect')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
