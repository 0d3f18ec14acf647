"""Tests for engine.partial: Python that does not parse as a whole."""
import ast

from engine.config import Settings
from engine.fingerprint import fingerprint_file
from engine.partial import partial_fingerprints
from engine.python_units import NoisePolicy, python_fingerprints
from engine.records import FileStatus
from engine.scan import scan

PY2 = b'''import sys

def shout(rows):
    print "loud"

@decorated
def merge(left, right, key=None):
    out = []
    while left and right:
        if (key or id)(left[0]) <= (key or id)(right[0]):
            out.append(left.pop(0))
        else:
            out.append(right.pop(0))
    return out + left + right
'''


def test_pieces_that_parse_give_statement_units():
    """The Python 2 function is compared by lines; the decorated one is parsed."""
    result = partial_fingerprints(PY2, NoisePolicy())
    assert (result.parsed_pieces, result.pieces) == (2, 3)
    lines = {(u.start_line, u.end_line) for u in result.fingerprints.units}
    assert (6, 14) in lines  # the whole decorated function, as one unit
    assert (4, 4) in lines   # the print statement, as a line


def test_a_copy_in_an_unparsable_file_matches_a_parsed_file(tmp_path):
    """A function copied into a Python 2 module is found as a clone of the original."""
    original = PY2.split(b"@decorated\n")[1]
    (tmp_path / "legacy.py").write_bytes(PY2)
    (tmp_path / "modern.py").write_bytes(b"import os\n\n\n" + original)
    result = scan([tmp_path], Settings(jobs=1), tmp_path / "i.db")
    places = [{f.path for f in clone.fragments} for clone in result.clones]
    assert {"legacy.py", "modern.py"} in places


def _module(pieces: int) -> bytes:
    """Many top-level pieces of the kinds a module has: functions, decorated
    classes, tables over several lines, plain assignments."""
    parts = []
    for i in range(pieces):
        kind = i % 4
        if kind == 0:
            parts.append(f"def f{i}(a, b):\n    if a > {i}:\n        return a - b\n"
                         f"    for x in range(b):\n        a += x * {i}\n    return a\n\n")
        elif kind == 1:
            parts.append(f"@dataclass\nclass C{i}:\n    name: str = 'c{i}'\n\n"
                         f"    def total(self, n):\n        return len(self.name) + n\n\n")
        elif kind == 2:
            parts.append(f"TABLE_{i} = {{\n    'a': {i},\n    'b': {i + 1},\n}}\n")
        else:
            parts.append(f"value_{i} = f{i - 3}(1, 2)  # é\n")
    return "".join(parts).encode()


def _break_and_fix(module: bytes, newline: bytes = b"\n") -> tuple[bytes, bytes, int]:
    """The module with a Python 2 line before a function near its middle, the
    same with that line commented out, and the line's number."""
    lines = module.replace(b"\n", newline).splitlines(keepends=True)
    middle = len(lines) // 2
    while not lines[middle].startswith(b"def "):
        middle += 1
    broken = b"".join([*lines[:middle], b'print "oops"' + newline, *lines[middle:]])
    fixed = b"".join([*lines[:middle], b'# rint "oops"' + newline, *lines[middle:]])
    return broken, fixed, middle + 1


def _assert_pieces_match_the_parsed_module(broken: bytes, fixed: bytes, line: int) -> None:
    reference = python_fingerprints(fixed, ast.parse(fixed), NoisePolicy())
    result = partial_fingerprints(broken, NoisePolicy())
    prints = result.fingerprints
    assert result.parsed_pieces == result.pieces - 1
    assert prints.units[:len(reference.units)] == reference.units
    assert prints.blocks[:-1] == reference.blocks
    assert [(u.start_line, u.end_line) for u in prints.units[len(reference.units):]] == \
        [(line, line)]


def test_a_large_file_with_one_error_keeps_every_piece_where_it_is():
    """A big module with one Python 2 line: the pieces around it give exactly
    the units (lines, hashes, weights) of the same module with the line commented out."""
    _assert_pieces_match_the_parsed_module(*_break_and_fix(_module(2000)))


def test_pieces_keep_their_lines_with_windows_line_ends():
    """CRLF files: pieces cut and shifted by the same line count as the parser's."""
    _assert_pieces_match_the_parsed_module(*_break_and_fix(_module(200), b"\r\n"))


def test_a_long_run_of_decorators_stays_with_its_function():
    """Decorators, their continuation lines and blank lines between belong to the
    def that follows, however many there are."""
    decorators = b"".join(b"@register(\n    'name%d',\n)\n\n" % k for k in range(3000))
    source = decorators + b"def handler(event):\n    return event\n" + b'print "done"\n'
    result = partial_fingerprints(source, NoisePolicy())
    assert (result.parsed_pieces, result.pieces) == (1, 2)
    handler = result.fingerprints.units[0]
    assert (handler.start_line, handler.end_line) == (1, 3000 * 4 + 2)


def test_a_file_that_does_not_parse_is_read_token_by_token(tmp_path):
    """fingerprint_file says so with FileStatus.TOKENS, and says how much parsed."""
    path = tmp_path / "old.py"
    path.write_bytes(PY2)
    result = fingerprint_file(str(path), "python", "", 1 << 20, NoisePolicy())
    assert result.status is FileStatus.TOKENS
    assert "2 of 3 top-level statements parsed alone" in result.error
    assert result.blob


def _stdlib_sources(count: int) -> list[bytes]:
    import sysconfig
    from pathlib import Path

    folder = Path(sysconfig.get_paths()["stdlib"])
    return [path.read_bytes() for path in sorted(folder.glob("*.py"))[:count]]


def test_a_module_parsed_piece_by_piece_gives_the_whole_parse_units():
    """Cut at lines a token starts outside brackets (never inside a string), each piece
    parsed alone, a module gives exactly the units of its whole parse."""
    from engine.fingerprint import pack
    from engine.normalize import token_stream
    from engine.partial import PieceError, statements_by_piece

    compared = 0
    for source in _stdlib_sources(60):
        try:
            tree = ast.parse(source.decode("utf-8"))
        except (UnicodeDecodeError, SyntaxError):
            continue
        stream = token_stream(source)
        try:
            pieces = python_fingerprints(source, statements_by_piece(source, stream),
                                         NoisePolicy(), stream)
        except PieceError:
            continue
        assert pack(pieces) == pack(python_fingerprints(source, tree, NoisePolicy()))
        compared += 1
    assert compared >= 50


def test_pieces_are_never_cut_inside_a_statement():
    """Lines inside a string or brackets, after a backslash, or between a decorator and
    its function (comments included) never start a piece; a piece that still does not
    parse alone is refused, not guessed."""
    import pytest

    from engine.normalize import token_stream
    from engine.partial import PieceError, statements_by_piece

    source = (b"x = 1 + \\\n2\ny = '''\ndef inside_a_string(): pass\n'''\nz = (\n1)\n"
              b"@decorated\n# a comment\ndef f():\n    pass\n")
    statements = list(statements_by_piece(source, token_stream(source)))
    assert [type(s).__name__ for s in statements] == ["Assign", "Assign", "Assign", "FunctionDef"]
    broken = b"x = 1\nprint 'python 2'\n"
    with pytest.raises(PieceError):
        list(statements_by_piece(broken, token_stream(broken)))


def test_a_huge_module_is_read_piece_by_piece_with_the_same_result(tmp_path):
    """Over PIECEWISE_BYTES (only with a raised max_file_size) a module's trees are made
    one top-level statement at a time; its fingerprints are those of the whole parse,
    and a module a piece of which does not parse alone still reads (as tokens)."""
    from engine import fingerprint

    sources = _stdlib_sources(200)
    big = tmp_path / "big.py"
    body = b"\n".join(sources)
    while len(body) <= fingerprint.PIECEWISE_BYTES:
        body += b"\n" + body
    big.write_bytes(body)
    limit = len(body) + 1
    result = fingerprint_file(str(big), "python", "", limit, NoisePolicy())
    assert result.status == FileStatus.PARSED
    assert fingerprint._by_pieces(body, NoisePolicy()) is not None  # the piecewise path
    tree = ast.parse(body.decode("utf-8"))
    assert result.blob == fingerprint.pack(python_fingerprints(body, tree, NoisePolicy()))
    joined = tmp_path / "joined.py"  # one piece that parses neither alone nor in the whole
    joined.write_bytes(body + b"\nprint 'python 2'\n")
    assert fingerprint_file(str(joined), "python", "", limit + 20,
                            NoisePolicy()).status == FileStatus.TOKENS
