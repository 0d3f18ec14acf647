"""Tests for engine.partial: Python that does not parse as a whole."""
from engine.config import Settings
from engine.partial import partial_fingerprints
from engine.python_units import NoisePolicy
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
