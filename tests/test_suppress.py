"""Tests for engine.suppress: `# codebot: ignore` on functions and classes, and ignored regions."""
from pathlib import Path

from engine.config import Settings
from engine.records import Fingerprints, Unit
from engine.scan import scan
from engine.suppress import directives, suppress

SETTINGS = Settings(jobs=1)


def unit(start: int, end: int, key: int) -> Unit:
    return Unit(start, end, key, key, end - start + 1, 10, False)


def test_directives_are_read_by_line():
    """ignore lines and start/end regions are found; an unclosed region runs to the end."""
    text = "a\nb  # codebot: ignore\n# codebot: ignore-start\nc\n#codebot:ignore-end\nd\n" \
           "# codebot: ignore-start\ne\n"
    found = directives(text)
    assert found.ignore_lines == (2,)
    assert found.regions == ((3, 5), (7, 8))


def test_ignore_takes_the_innermost_unit_and_its_parents():
    """A marker inside a method excludes that method and what encloses it, not its neighbours."""
    units = (unit(1, 20, 1), unit(2, 8, 2), unit(10, 20, 3), unit(11, 12, 4))
    prints = suppress(Fingerprints(units, ()), directives("\n" * 4 + "x  # codebot: ignore\n"), b"s")
    assert [u.noise for u in prints.units] == [True, True, False, False]
    assert prints.units[1].renamed != 2 and prints.units[1].lines == 0


def test_replacement_hashes_are_unique_per_file():
    """Two files suppressing the same code get different hashes, so they cannot match."""
    units = (unit(1, 3, 7),)
    found = directives("# codebot: ignore-start\n")
    a = suppress(Fingerprints(units, ()), found, b"a")
    b = suppress(Fingerprints(units, ()), found, b"b")
    assert a.units[0].renamed != b.units[0].renamed


def copied_function(shop: Path, marker_line: str = "", region: bool = False) -> None:
    """Copy invoice_total into a new file, marked as asked."""
    lines = (shop / "billing" / "invoice.py").read_text().splitlines(keepends=True)[9:21]
    body = "".join(lines).replace("invoice_total", "copied_total")
    if marker_line:
        body = body.replace("coupon=None):", "coupon=None):  " + marker_line, 1)
    if region:
        body = "# codebot: ignore-start\n" + body + "# codebot: ignore-end\n"
    (shop / "catalog" / "copy.py").write_text("from decimal import Decimal\n\n\n" + body)


def copy_places(shop: Path, db: Path) -> list[set[str]]:
    result = scan([shop], SETTINGS, db)
    return [{f.path for f in c.fragments} for c in result.clones
            if "catalog/copy.py" in {f.path for f in c.fragments}]


def test_unmarked_copy_is_found(shop, tmp_path):
    """The copied function joins the invoice clone when nothing is marked."""
    copied_function(shop)
    assert copy_places(shop, tmp_path / "i.db")


def test_ignore_on_the_def_line_excludes_the_function(shop, tmp_path):
    """`# codebot: ignore` on the def line keeps the copy out of every clone."""
    copied_function(shop, "# codebot: ignore")
    assert copy_places(shop, tmp_path / "i.db") == []


def test_ignore_on_the_decorator_line_excludes_the_function(shop, tmp_path):
    """On a decorated function the marker may sit on the decorator."""
    copied_function(shop)
    path = shop / "catalog" / "copy.py"
    path.write_text(path.read_text().replace("def copied_total", "@staticmethod  # codebot: ignore\ndef copied_total"))
    assert copy_places(shop, tmp_path / "i.db") == []


def test_ignored_region_is_excluded(shop, tmp_path):
    """Code between ignore-start and ignore-end is not reported."""
    copied_function(shop, region=True)
    assert copy_places(shop, tmp_path / "i.db") == []
