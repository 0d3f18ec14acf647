"""The detector rules chosen from natural clones between library releases and split B.

Each case goes through the real engine (`harness.assert_clones`) or its pure parts,
and states what a rule changes: what is set aside in near-miss comparison, which
floors apply to which copies, what counts as data, and which classes fold.
"""
import ast
import textwrap

from engine.content import api_drift, api_form
from engine.normalize import token_stream
from engine.suggest import code_tokens
from engine.python_units import NoisePolicy, _is_data, python_fingerprints
from harness import assert_clones

PLAIN = textwrap.dedent("""\
    def parse(self, text, strict=False):
        parts = text.split(",")
        values = []
        for part in parts:
            if not part and strict:
                raise ValueError(text)
            values.append(part.strip())
        return values
""")
# The same function a release later: annotated, decorated, documented.
ANNOTATED = textwrap.dedent('''\
    @cached
    def parse(self, text: str, strict: bool = False) -> list[str]:
        """Split `text` on commas.

        Empty parts are an error when `strict`.
        """
        parts: list[str] = text.split(",")
        values = []
        for part in parts:
            if not part and strict:
                raise ValueError(text)
            values.append(part.strip())
        return values
''')


def near_codes(source: str) -> bytes:
    data = source.encode()
    prints = python_fingerprints(data, ast.parse(data), NoisePolicy())
    near = prints.near[0]
    return prints.codes[near.token_first:near.token_stop]


def test_annotations_decorators_and_docstrings_are_set_aside_in_near_comparison():
    """The near-miss tokens of a function annotated, decorated and documented later are
    those of the plain one; its renamed hash still differs (the code did change)."""
    assert near_codes(ANNOTATED) == near_codes(PLAIN)
    assert near_codes(PLAIN.replace("values.append", "values.extend")) == near_codes(PLAIN)
    assert near_codes(PLAIN.replace("return values", "return values or None")) != near_codes(PLAIN)


def test_a_function_annotated_in_its_copy_is_one_near_class():
    clones = assert_clones({"old.py": PLAIN, "new.py": ANNOTATED},
                           [("near", [("old.py", 1, 8), ("new.py", 1, 13)])])
    assert clones[0].similarity == 1.0


SMALL = textwrap.dedent("""\
    def is_ascii(text):
        try:
            text.encode("ascii")
        except UnicodeEncodeError:
            return False
        return True
""")


def test_an_exact_copy_of_a_small_function_is_reported_a_renamed_one_is_not():
    """Under min_tokens, identical whole functions are still a copy; the same shape with
    other names (`try: f(x) except E: return False`) is chance."""
    assert_clones({"a.py": SMALL, "b.py": SMALL.replace('"ascii"', "'ascii'")},
                  [("exact", [("a.py", 1, 6), ("b.py", 1, 6)])])
    other = SMALL.replace("is_ascii", "is_int").replace("text", "s") \
        .replace('s.encode("ascii")', "int(s)").replace("UnicodeEncodeError", "ValueError")
    assert_clones({"a.py": SMALL, "b.py": other}, [])


def test_single_and_double_quoted_strings_are_the_same_exact_token():
    assert token_stream(b"f('a b')").exact == token_stream(b'f("a b")').exact
    assert token_stream(b"f('a\"b')").exact != token_stream(b"f(\"a'b\")").exact


def test_else_and_finally_lines_count_as_code_lines():
    source = textwrap.dedent("""\
        def f(x):
            try:
                g(x)
            except E:
                h(x)
            else:
                k(x)
            finally:
                m(x)
            if x:
                a(1)
            elif x > 2:
                b(2)
            else:
                c(3)
    """).encode()
    units = python_fingerprints(source, ast.parse(source), NoisePolicy()).units
    assert units[0].lines == 15  # every line of the function holds code


def test_a_layout_squeezed_copy_is_measured_on_its_longer_side():
    """Joining continuation lines does not take a copy under min_lines."""
    wide = textwrap.dedent("""\
        def f(items, limit):
            total = sum(
                item.price
                for item in items
            )
            if total > limit:
                raise ValueError(total)
            return total
    """)
    narrow = wide.replace("(\n        item.price\n        for item in items\n    )",
                          "(item.price for item in items)")
    assert narrow.count("\n") == 5
    assert_clones({"a.py": wide, "b.py": narrow}, [("exact", [("a.py", 1, 8), ("b.py", 1, 5)])],
                  min_lines=6, min_tokens=20)


def test_calls_whose_rows_are_constructor_calls_are_data():
    def first(source: str) -> ast.stmt:
        return ast.parse(source).body[0]

    assert _is_data(first('t = Table("a", meta, Column("id", Integer), Column("n", String(9)))'))
    assert _is_data(first("pairs.update([(1, 2), (3, 4), (5, 6)])"))
    assert not _is_data(first('log.info("a %s", x, fmt("b", "c"))'))
    assert not _is_data(first("self.assertEqual(f(x), [1, 2, 3])"))
    # A container built from a literal one is a table too (a generated module's
    # `CellTable("6.1.0", [(0, 0, 0), ...], frozenset(["a", ...]))`); a call of plain
    # constants is not.
    assert _is_data(first('t = CellTable("6.1.0", [(0, 0, 0), (1, 2, 0)], frozenset(["a", "b"]))'))
    assert not _is_data(first("y = f(g(1, 2, 3))"))


def test_tables_with_other_columns_are_not_copies():
    table = textwrap.dedent("""\
        def define(meta):
            users = Table(
                "users", meta,
                Column("id", Integer, primary_key=True),
                Column("name", String(40), nullable=False),
                Column("email", String(120), unique=True),
            )
            return users
    """)
    other = table.replace('"users"', '"orders"').replace('"name", String(40)', '"total", Numeric(9)') \
        .replace('"email", String(120)', '"placed", DateTime()').replace("users", "orders")
    assert_clones({"a.py": table, "b.py": other}, [], min_lines=6, min_tokens=20)


def test_a_call_with_an_argument_a_line_weighs_what_its_tokens_fill():
    """A copied call spread over twelve lines is one statement of about four lines' worth
    of tokens: too small to report, however it is laid out."""
    call = "def {name}(self, method, url, body, headers):\n    return self.urlopen(\n" + "".join(
        f"        {arg}={arg},\n" for arg in ("method", "url", "body", "headers", "retries",
                                             "redirect", "timeout", "chunked", "pool", "release")
    ) + "    )\n"
    assert_clones({"a.py": call.format(name="get"), "b.py": call.format(name="fetch")}, [])


def test_copies_of_one_shape_that_use_other_apis_are_not_reported():
    """Renamed hashes alike, but the called names and attributes differ: chance, not a copy."""
    one = textwrap.dedent("""\
        def parse_requirement(tokenizer):
            tokenizer.consume("WS")
            name = tokenizer.expect("IDENTIFIER").text
            tokenizer.consume("WS")
            extras = parse_extras(tokenizer)
            tokenizer.consume("WS")
            details = parse_details(tokenizer)
            return Requirement(name, extras, details)
    """)
    other = textwrap.dedent("""\
        def render_row(table):
            table.draw_border("top")
            cells = table.columns("visible").width
            table.draw_border("mid")
            padding = measure_cells(table)
            table.draw_border("end")
            style = pick_style(table)
            return Row(cells, padding, style)
    """)
    assert_clones({"a.py": one, "b.py": other}, [], min_lines=6, min_tokens=30)
    renamed = one.replace("tokenizer", "tok").replace("name", "label").replace("extras", "extra")
    assert_clones({"a.py": one, "b.py": renamed}, [("renamed", [("a.py", 1, 8), ("b.py", 1, 8)])],
                  min_lines=6, min_tokens=30)


def test_a_one_call_pass_through_is_a_delegation_however_long():
    """`return self.request("GET", url, params=params, ...)` over many lines is a
    delegation, like a short one; so are `T = TypeVar("T")` blocks."""
    def method(verb: str) -> str:
        arguments = "".join(f"            {a}={a},\n" for a in ("params", "headers", "cookies",
                                                                "auth", "timeout", "extensions"))
        return (f"    def {verb.lower()}(self, url, *, params=None, headers=None, cookies=None,\n"
                f"            auth=None, timeout=None, extensions=None):\n"
                f"        return self.request(\n            \"{verb}\",\n            url,\n"
                f"{arguments}        )\n")
    client = "class Client:\n" + method("GET") + "\n" + method("HEAD")
    assert_clones({"a.py": client, "b.py": client.replace("Client", "AsyncClient")}, [],
                  min_lines=6, min_tokens=30)
    typevars = "".join(f'{name} = TypeVar("{name}")\n' for name in "ABCDEFGH")
    assert_clones({"a.py": typevars, "b.py": typevars}, [], min_lines=6, min_tokens=20)


def test_an_exact_copy_of_a_five_line_helper_is_not_reported_a_seven_line_one_is():
    """Small whole functions copied verbatim: five lines on the page are boilerplate to a
    reader (judged so); seven, one statement spread over lines, are a copy."""
    helper = textwrap.dedent("""\
        def _drop(self):
            if self._makefile_refs < 1:
                self.close()
            else:
                self._makefile_refs -= 1
    """)
    assert_clones({"a.py": helper, "b.py": helper}, [])
    spread = textwrap.dedent("""\
        def _bind_to_schema(self, field_name, schema):
            super()._bind_to_schema(field_name, schema)
            self.format = (
                self.format
                or getattr(self.root.opts, self.SCHEMA_OPTS_VAR_NAME)
                or self.DEFAULT_FORMAT
            )
    """)
    assert_clones({"a.py": spread, "b.py": spread}, [("exact", [("a.py", 1, 7), ("b.py", 1, 7)])])


def test_logging_calls_are_set_aside_in_near_comparison():
    """A copy that logs more (or less) is the same code; a `print` is output, not logging."""
    body = "    parts = text.split(\",\")\n"
    for line in ('    log.debug("parsing %s", text)\n',
                 '    self.logger.info("parsing")\n',
                 '    logging.getLogger(__name__).warning("parsing %s", text)\n',
                 '    _LOG.exception("parsing")\n'):
        assert near_codes(PLAIN.replace(body, line + body + line)) == near_codes(PLAIN), line
    assert near_codes(PLAIN.replace(body, '    print("parsing")\n' + body)) != near_codes(PLAIN)
    assert near_codes(PLAIN.replace(body, '    log.append(text)\n' + body)) != near_codes(PLAIN)


def test_an_init_that_fills_defaults_and_stores_its_arguments_is_boilerplate():
    init = textwrap.dedent("""\
        class {name}:
            def __init__(self, stream_factory=None, max_size=None, cls=None, silent=True):
                if stream_factory is None:
                    stream_factory = default_stream_factory
                self.stream_factory = stream_factory
                self.max_size = max_size
                if cls is None:
                    cls = MultiDict
                self.cls = cls
                self.silent = silent
    """)
    assert_clones({"a.py": init.format(name="FormParser"), "b.py": init.format(name="Parser")},
                  [], min_lines=6, min_tokens=30)
    # Logic beside the stores is not boilerplate.
    working = init.replace("    self.silent = silent\n",
                           "    self.silent = silent\n        self.buffer = bytearray(max_size or 0)\n")
    assert_clones({"a.py": working.format(name="FormParser"), "b.py": working.format(name="Parser")},
                  [("renamed", [("a.py", 1, 11), ("b.py", 1, 11)])], min_lines=6, min_tokens=30)


def test_a_near_copy_with_a_statement_added_first_is_reported_whole():
    """The copy gained a guard as its first statement: both functions are reported from
    their `def` lines, not cut to the statements that align."""
    guarded = PLAIN.replace("    parts = text.split", "    if text is None:\n"
                            "        raise TypeError(\"text\")\n    parts = text.split") \
        .replace("parse", "split_all").replace("values", "found")
    clones = assert_clones({"a.py": PLAIN, "b.py": guarded},
                           [("near", [("a.py", 1, 8), ("b.py", 1, 10)])])
    assert clones[0].similarity < 1.0


def test_long_functions_need_less_similarity_than_short_ones():
    """A pair whose shorter side has LONG_TOKENS compared tokens passes LONG_EASING under
    the threshold: at 0.80-0.85, a long pair is a copy and a short one is not reported."""
    import numpy as np

    from engine.near import LONG_EASING, LONG_TOKENS, pair_thresholds, similarity
    needed = pair_thresholds(0.85, np.array([LONG_TOKENS - 1, LONG_TOKENS]))
    assert needed.tolist() == [0.85, 0.85 - LONG_EASING]

    body = ["    total = 0",
            "    for row in rows:",
            "        if row.weight > limit:",
            "            total += scale(row.weight, factor)",
            "        elif row.name in seen:",
            "            continue",
            "    seen = {row.name for row in rows if row.active}",
            "    report = Report(total, len(seen))",
            "    with open(path, 'w') as out:",
            "        out.write(report.render(width=80))",
            "    try:",
            "        cache[key] = report",
            "    except KeyError as error:",
            "        raise LookupError(key) from error",
            "    while pending and total > 0:",
            "        total -= pending.pop().cost",
            "    return report, total"]
    other = "    assert not [c for c in key if c.isdigit()], key\n    del cache[key:], pending[::2]"

    def function(name: str, lines: list[str]) -> str:
        return f"def {name}(rows, limit, factor, path, cache, key, pending, seen):\n" \
            + "\n".join(lines) + "\n"

    def similar(a: str, b: str) -> float:
        return similarity(near_codes(a), near_codes(b))

    # Two statements of seventeen replaced; the short one is the first eight lines and
    # its own `return`, with one statement replaced.
    long_a = function("a", body)
    long_b = function("b", [*body[:6], other, other, *body[8:]])
    short_a = function("a", [*body[:6], "    seen.clear()", "    return total"])
    short_b = function("b", [*body[:6], other, "    return total"])
    assert len(near_codes(long_a)) >= LONG_TOKENS > len(near_codes(short_a))
    assert 0.85 - LONG_EASING <= similar(long_a, long_b) < 0.85
    assert 0.85 - LONG_EASING <= similar(short_a, short_b) < 0.85
    long_clones = assert_clones({"a.py": long_a, "b.py": long_b},
                                [("near", [("a.py", 1, 18), ("b.py", 1, 20)])])
    assert long_clones[0].similarity < 0.85
    assert_clones({"a.py": short_a, "b.py": short_b}, [])


def test_a_small_function_annotated_in_its_copy_is_reported_an_edited_one_is_not():
    """Too small for near-miss pairing, but an exact copy but for its annotations: found,
    as an exact copy of that size would be. Edited or renamed, it stays too small."""
    old = textwrap.dedent('''\
        def ensure_object(self, object_type):
            """Like find_object, but makes the object when there is none."""
            rv = self.find_object(object_type)
            if rv is None:
                self.obj = rv = object_type()
            return rv
    ''')
    new = old.replace("(self, object_type):", "(self, object_type: t.Type[V]) -> V:")
    assert near_codes(old) == near_codes(new) and len(near_codes(old)) < 35
    clones = assert_clones({"a.py": old, "b.py": new}, [("near", [("a.py", 1, 6), ("b.py", 1, 6)])])
    assert clones[0].similarity == 1.0
    assert_clones({"a.py": old, "b.py": new.replace("return rv", "return rv or None")}, [])
    assert_clones({"a.py": old, "b.py": new.replace("rv", "found")}, [])


GROUPERS = textwrap.dedent('''\
    @recurse(sql.Over)
    def group_over(tlist):
        tidx, token = tlist.token_next_by(m=sql.Over.M_OPEN)
        while token:
            nidx, next_ = tlist.token_next(tidx)
            if imt(next_, i=sql.Parenthesis, t=T.Name):
                tlist.group_tokens(sql.Over, tidx, nidx)
            tidx, token = tlist.token_next_by(m=sql.Over.M_OPEN, idx=tidx)


    @recurse(sql.Identifier)
    def group_order(tlist):
        tidx, token = tlist.token_next_by(t=T.Keyword.Order)
        while token:
            pidx, prev_ = tlist.token_prev(tidx)
            if imt(prev_, i=sql.Identifier, t=T.Number):
                tlist.group_tokens(sql.Identifier, pidx, tidx)
                tidx = pidx
            tidx, token = tlist.token_next_by(t=T.Keyword.Order, idx=tidx)


    @recurse()
    def align_comments(tlist):
        tidx, token = tlist.token_next_by(i=sql.Comment)
        while token:
            pidx, prev_ = tlist.token_prev(tidx)
            if isinstance(prev_, sql.TokenList):
                tlist.group_tokens(sql.TokenList, pidx, tidx, extend=True)
                tidx = pidx
            tidx, token = tlist.token_next_by(i=sql.Comment, idx=tidx)
''')


def test_api_drift_counts_what_aligns_in_shape_but_calls_other_things():
    """Inserted statements lower both similarities alike; a changed attribute lowers only
    the one that keeps the APIs."""
    def forms(source: str) -> list[bytes]:
        return api_form(code_tokens(source))

    base = "def f(items):\n    total = items.first()\n    return total.value\n"
    assert api_form(code_tokens(base)) == \
        b'def v ( v ) : v = v . first ( ) return v . value'.split(b" ")
    renamed = base.replace("items", "rows").replace("total", "sum_")
    inserted = base.replace("    return", "    check(total)\n    return")
    other_api = base.replace("first", "last").replace("value", "size")
    assert api_drift(forms(base), forms(renamed)) == 0
    assert api_drift(forms(base), forms(inserted)) < 0.01
    assert api_drift(forms(base), forms(other_api)) > 0.1


def test_near_copies_of_one_pattern_that_call_other_apis_are_not_reported():
    """Three functions of one loop pattern: the two that do the same thing to other token
    types are a near clone; the one that looks ahead instead of behind is left out."""
    clones = assert_clones({"grouping.py": GROUPERS},
                           [("near", [("grouping.py", 11, 19), ("grouping.py", 22, 30)])],
                           min_lines=6, min_tokens=30)
    assert len(clones[0].fragments) == 2
    pair = GROUPERS.split("\n\n\n")[:2]
    assert_clones({"a.py": pair[0], "b.py": pair[1]}, [], min_lines=6, min_tokens=30)
    # An edited copy of the same function, locals renamed and a statement added, is one.
    edited = pair[1].replace("pidx", "before").replace("tidx = before", "tidx = before\n"
                                                         "            seen += 1")
    assert_clones({"a.py": pair[1], "b.py": edited},
                  [("near", [("a.py", 1, 9), ("b.py", 1, 10)])], min_lines=6, min_tokens=30)


def test_a_comparison_of_fields_is_boilerplate_at_any_length():
    compare = textwrap.dedent("""\
        class {name}:
            def __eq__(self, other: object) -> bool:
                if not isinstance(other, {name}):
                    return False
                return (
                    self.text == other.text
                    and self.start_position == other.start_position
                    and self.display == other.display
                    and self._display_meta == other._display_meta
                )
    """)
    assert_clones({"a.py": compare.format(name="Completion"), "b.py": compare.format(name="Doc")},
                  [], min_lines=6, min_tokens=30)
    # A comparison that computes something is code.
    working = compare.replace("self.text == other.text", "self.text.lower() == other.text.lower()")
    assert_clones({"a.py": working.format(name="Completion"), "b.py": working.format(name="Doc")},
                  [("renamed", [("a.py", 1, 10), ("b.py", 1, 10)])], min_lines=6, min_tokens=30)


def test_thin_helpers_nested_in_a_function_weigh_in_its_size():
    """A function made of small nested helpers and one call is copied whole; its helpers
    are thin (a delegation each), which top-level functions of their own would be noise."""
    outer = textwrap.dedent("""\
        def group_typecasts(tlist):
            def match(token):
                return token.match(T.Punctuation, '::')

            def valid(token):
                return token is not None

            def post(tlist, pidx, tidx, nidx):
                return pidx, nidx

            valid_prev = valid_next = valid
            _group(tlist, sql.Identifier, match, valid_prev, valid_next, post)
    """)
    renamed = outer.replace("tlist", "fragment").replace("valid", "check").replace("'::'", "'->'")
    assert_clones({"a.py": outer, "b.py": renamed}, [("renamed", [("a.py", 1, 12), ("b.py", 1, 12)])])
    # The same helpers at the top level are delegations: no clone.
    helpers = textwrap.dedent(outer.split("\n", 1)[1].rsplit("\n\n", 1)[0])
    assert_clones({"a.py": helpers, "b.py": helpers.replace("token", "item")}, [])
