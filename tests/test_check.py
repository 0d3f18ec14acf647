"""Tests for engine.check: given files against the stored index, and the `check` command."""
from pathlib import Path

import pytest

from conftest import run_cli
from engine.check import ROOT_MARKERS, check, find_root
from engine.config import Settings
from engine.scan import scan

SETTINGS = Settings(jobs=1)


@pytest.fixture
def indexed(shop: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The shop tree as a repository root (it has a pyproject.toml), scanned once."""
    (shop / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    db = tmp_path / "index.db"
    scan([shop], SETTINGS, db)
    return shop, db


def carrier_copy(shop: Path, name: str = "catalog/couriers.py") -> Path:
    """Copy the Carrier class (clone-free in the fixture) into a new file."""
    target = shop / name
    target.write_text((shop / "shipping" / "carriers.py").read_text().replace("Carrier", "Courier"))
    return target


def places(result) -> list[set[str]]:
    return [{f.path for f in c.fragments} for c in result.report.clones]


def test_new_file_copying_indexed_code_is_reported(indexed):
    """A file the index has never seen is matched against the rest and names both places."""
    shop, db = indexed
    copy = carrier_copy(shop)
    result = check([copy], SETTINGS, shop, db)
    assert places(result) == [{"catalog/couriers.py", "shipping/carriers.py"}]
    assert result.report.stats.files == 1 and result.report.stats.files_reused >= 9


def test_unrelated_file_is_clean(indexed):
    """A file without copies gives no clones, and the existing clones elsewhere are not reported."""
    shop, db = indexed
    result = check([shop / "catalog" / "search.py"], SETTINGS, shop, db)
    assert result.report.clones == ()


def test_only_clones_involving_the_given_files(indexed):
    """Checking one fragment of an existing clone reports that clone; others stay out."""
    shop, db = indexed
    result = check([shop / "web" / "cart.js"], SETTINGS, shop, db)
    assert places(result) == [{"web/cart.js", "web/checkout.js"}]


def test_edited_file_is_read_fresh_from_disk(indexed):
    """The given file's stored units are replaced by what is on disk now."""
    shop, db = indexed
    search = shop / "catalog" / "search.py"
    search.write_text(search.read_text() + "\n\n" + (shop / "shipping" / "carriers.py").read_text())
    result = check([search], SETTINGS, shop, db)
    assert {"catalog/search.py", "shipping/carriers.py"} in places(result)


def test_file_is_not_a_copy_of_its_indexed_self(indexed):
    """An indexed, unchanged file checked again does not match its stored version."""
    shop, db = indexed
    result = check([shop / "shipping" / "carriers.py"], SETTINGS, shop, db)
    assert result.report.clones == ()


def test_deleted_file_is_skipped_with_a_note(indexed):
    """A path that is gone is listed as skipped, and its stored units no longer count."""
    shop, db = indexed
    (shop / "web" / "checkout.js").unlink()
    result = check([shop / "web" / "checkout.js", shop / "web" / "cart.js"], SETTINGS, shop, db)
    assert [s.path for s in result.report.skipped] == ["web/checkout.js"]
    assert "deleted" in result.report.skipped[0].reason
    assert result.report.clones == ()


def test_renamed_file_is_not_reported_as_a_copy_of_its_old_name(indexed):
    """After a rename the index still holds the old path; that stale copy is ignored."""
    shop, db = indexed
    old = shop / "shipping" / "carriers.py"
    new = shop / "shipping" / "couriers.py"
    old.rename(new)
    result = check([new], SETTINGS, shop, db)
    assert result.report.clones == ()


def test_syntax_error_file_is_compared_token_by_token(indexed):
    """A file that does not parse still has lines copied from another such file found."""
    shop, db = indexed
    legacy = (shop / "legacy" / "report_py2.py").read_text().splitlines(keepends=True)
    broken = shop / "catalog" / "broken.py"
    broken.write_text("def oops(:\n    pass\n\n" + "".join(legacy[1:11]).replace("rows", "lines"))
    result = check([broken], SETTINGS, shop, db)
    assert {"catalog/broken.py", "legacy/report_py2.py"} in places(result)


def test_file_outside_the_root_is_checked_against_it(indexed, tmp_path):
    """A file outside the repository is matched too, reported by its absolute path."""
    shop, db = indexed
    outside = tmp_path / "elsewhere" / "couriers.py"
    outside.parent.mkdir()
    outside.write_text((shop / "shipping" / "carriers.py").read_text())
    result = check([outside], SETTINGS, shop, db)
    assert places(result) == [{outside.as_posix(), "shipping/carriers.py"}]


def test_missing_index_is_built_first_and_said(shop, tmp_path):
    """Without an index, check scans the root first and says so in a note."""
    (shop / "pyproject.toml").write_text("")
    copy = carrier_copy(shop)
    result = check([copy], SETTINGS, shop, tmp_path / "new.db")
    assert result.notes and "building it first" in result.notes[0]
    assert places(result) == [{"catalog/couriers.py", "shipping/carriers.py"}]


def test_root_is_the_nearest_marked_folder(tmp_path):
    """find_root walks up to .git, pyproject.toml or .codebot, else keeps the start."""
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    deep = tmp_path / "repo" / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_root(deep) == tmp_path / "repo"
    (tmp_path / "repo" / "src" / "pyproject.toml").write_text("")
    assert find_root(deep) == tmp_path / "repo" / "src"
    lone = tmp_path / "lone"
    lone.mkdir()
    marked = [folder for folder in lone.parents
              if any((folder / marker).exists() for marker in ROOT_MARKERS)]
    if marked:
        pytest.skip(f"{marked[0]}, above the test's temporary folder, holds a root marker")
    assert find_root(lone) == lone


def test_cli_exit_codes_and_messages(indexed):
    """Exit 1 naming both places on a copy, 0 when clean, 2 on a folder."""
    shop, db = indexed
    copy = carrier_copy(shop)
    failed = run_cli("check", copy.relative_to(shop), "--db", db, cwd=shop)
    assert failed.returncode == 1, failed.stderr
    assert "catalog/couriers.py" in failed.stdout and "shipping/carriers.py" in failed.stdout
    assert "check failed" in failed.stderr
    clean = run_cli("check", "catalog/search.py", "--db", db, cwd=shop)
    assert clean.returncode == 0, clean.stderr
    folder = run_cli("check", "catalog", "--db", db, cwd=shop)
    assert folder.returncode == 2 and "is a folder" in folder.stderr


def _retire(corpus, rel: str) -> None:
    """The old version of `rel` kept in the corpus but matching nothing: its units unique
    noise, its path `rel@indexed` (how check once worked: an oracle apart from the lookup)."""
    from bisect import bisect_left, bisect_right

    import xxhash

    index = corpus.paths.index(rel)
    corpus.paths[index] = f"{rel}@indexed"
    for unit in range(bisect_left(corpus.file_of, index), bisect_right(corpus.file_of, index)):
        corpus.exact[unit] = corpus.renamed[unit] = xxhash.xxh3_64_intdigest(
            f"{rel}\0{unit}".encode(), seed=0x7071)
        corpus.noise[unit] = True
        corpus.lines[unit] = corpus.tokens[unit] = 0


def _whole_corpus_check(db: Path, root: Path, rel: str) -> list[tuple[str, tuple]]:
    """What a check of `rel` finds matching against every stored file (the oracle the
    lookup must agree with): the stored corpus, its old version of `rel` retired."""
    from engine.detect import detect
    from engine.discover import relative_path
    from engine.fingerprint import fingerprint_file, unpack_columns
    from engine.match import Corpus
    from engine.store import Store

    with Store(db) as store:
        known = {relative_path(p, root): k for p, k in store.known_files().items()}
        corpus = Corpus.of_files(store.stored_columns((p, known[p].id) for p in sorted(known)))
    _retire(corpus, rel)
    fresh = fingerprint_file(str(root / rel), "python", "", SETTINGS.max_file_size,
                             SETTINGS.noise_policy)
    corpus.add_file(rel, *unpack_columns(fresh.blob))
    found = detect(corpus, SETTINGS, root, seed_files={len(corpus.paths) - 1})
    return sorted((c.kind, tuple(f for f in c.fragments if not f.path.endswith("@indexed")))
                  for c, _ in found)


def test_the_lookup_finds_what_matching_against_every_file_finds(tmp_path):
    """A check loads only the files that share a unit hash or band bucket with the checked
    one, and passes on what is too common over the whole index: the clones are those
    that matching against every stored file gives — here with a statement repeated in
    more files than a bucket may hold, and an edited copy of a function (near-miss)."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'repo'\n")
    common = ("def configure(app, settings):\n    app.debug = False\n    app.name = settings.name\n"
              "    app.secret = settings.load('secret', default=None)\n"
              "    app.routes = [route for route in settings.routes if route.enabled]\n"
              "    app.timeout = settings.timeout * 2 + 1\n    return app\n\n\n")
    body = "\n".join(f"    total += item.price * {k} - discount(item, {k})" for k in range(8))
    for n in range(60):  # `configure` in 60 files: over MAX_BUCKET, never matched
        price = (f"def price_{n}(items, discount):\n    total = {n}\n    for item in items:\n"
                 f"{body.replace('    ', '        ')}\n    return total\n") if n < 5 else ""
        (root / "pkg" / f"m{n:02}.py").write_text(common + price)
    db = tmp_path / "index.db"
    scan([root], SETTINGS, db)
    edited = root / "pkg" / "m03.py"
    edited.write_text(edited.read_text().replace("- discount(item, 3)", "+ 1"))
    kinds = set()
    for rel in ("pkg/m03.py", "pkg/m00.py", "pkg/m59.py"):
        result = check([root / rel], SETTINGS, root, db)
        got = sorted((c.kind, c.fragments) for c in result.report.clones)
        assert got == _whole_corpus_check(db, root, rel), rel
        kinds |= {kind for kind, _ in got}
    assert kinds == {"renamed", "near"}, "the fixture has clones of both kinds to find"
