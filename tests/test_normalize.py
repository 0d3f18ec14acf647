"""Tests for engine.normalize: token streams in exact and renamed form."""
from engine.normalize import is_identifier, is_literal, token_stream, tokens


def test_layout_and_comments_do_not_change_the_exact_tokens():
    """Reformatting, comments and continuations leave the exact form alone."""
    one = token_stream(b"total = price * (qty + 1)  # note\n")
    two = token_stream(b"total=price*(\n    qty +1\n)\n")
    assert one.exact == two.exact


def test_renamed_form_abstracts_names_and_literals_but_keeps_keywords():
    """Names become v, numbers 0, strings a quote; keywords and operators stay."""
    stream = token_stream(b'if not found: value = compute("x", 42) or None\n')
    assert stream.renamed == [b"if", b"not", b"v", b":", b"v", b"=", b"v", b"(", b'"', b",",
                              b"0", b")", b"or", b"None"]


def test_streams_stay_aligned_with_strings_holding_separators():
    """Strings with spaces, quotes and newlines are one token in both forms."""
    stream = token_stream(b'x = """a "b"\n c"""; y = \'it\\\'s\'\n')
    assert len(stream.exact) == len(stream.renamed) == len(stream.starts) == 7
    assert stream.renamed[2] == b'"'


def test_token_start_offsets_point_at_the_tokens():
    """Each start offset is where its token begins in the source."""
    source = b"a  =\tfoo(1)\n# c\nb = 2\n"
    stream = token_stream(source)
    for token, start in zip(stream.exact, stream.starts):
        assert source[start:start + len(token)] == token


def test_token_kind_helpers():
    """Identifiers exclude keywords; literals are strings and numbers."""
    assert is_identifier(b"value") and not is_identifier(b"while")
    assert is_literal(b"'x'") and is_literal(b"3.5") and not is_literal(b"x")
    assert tokens(b"a # b\n") == [b"a"]
