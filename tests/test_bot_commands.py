"""The command table against the README, the button table, and a clone's code read through the engine."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from bot.catalog import ACTIONS
from bot.commands import BUTTONS, COMMANDS, usage
from bot.commands.index import CODE_MAX_LINES, clone_in_full, fragment_code
from bot.config import BotConfig
from engine.queries import ScanInfo
from engine.records import Clone, Fragment
from engine.sources import FragmentTexts

README = Path(__file__).resolve().parent.parent / "README.md"
TABLE_HEAD = "| command | role | what it answers |"
CELL = re.compile(r"(?<!\\)\|")  # a cell border; `\|` inside a cell is a literal bar


def readme_commands() -> set[tuple[str, str]]:
    """(command, role) of every command named in the README's bot command table."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(TABLE_HEAD) + 2  # past the head and its |---| row
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in CELL.split(line)[1:-1]])
    return {(name, row[1]) for row in rows for name in re.findall(r"`/([a-z_]+)", row[0])}


def test_readme_table_lists_exactly_the_commands_and_their_roles():
    """Every command of COMMANDS is in the README's table with its role, and the table names no other."""
    listed = readme_commands()
    assert listed, "the README's bot command table was not found"
    assert listed == {(name, command.role) for name, command in COMMANDS.items()}


def test_every_command_and_button_has_a_coroutine_handler():
    """Each table entry points at an `async def` (not a module or a plain function); buttons name known commands."""
    assert all(inspect.iscoroutinefunction(command.handler) for command in COMMANDS.values())
    assert all(inspect.iscoroutinefunction(b.handler) and (b.command in COMMANDS or b.command in ACTIONS)
               for b in BUTTONS.values())


def test_usage_lines_and_default_roles_come_from_the_table():
    """The usage line is built from the table, and the configuration's default roles are the table's."""
    assert usage("errors") == "/errors [window] — top errors, e.g. /errors 24h"
    assert usage("status") == "/status — index, requests and alerts at a glance"
    config = BotConfig()
    assert {name: config.required_role(name) for name in COMMANDS} == {n: c.role for n, c in COMMANDS.items()}
    assert config.commands_for("admin") == list(COMMANDS)


def test_fragment_code_reads_through_the_engine_and_stays_under_the_root(tmp_path):
    """Code comes from the engine's FragmentTexts, capped at CODE_MAX_LINES; a path outside the scanned
    root is not read, and a file gone since the scan is said to be gone."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "a.py").write_text("".join(f"x_{i} = {i}\n" for i in range(1, 301)))
    (tmp_path / "secret.py").write_text("TOKEN = 'do-not-show'\n")
    texts = FragmentTexts(root)
    assert fragment_code(texts, root, Fragment("a.py", 2, 3)) == "x_2 = 2\nx_3 = 3"
    long = fragment_code(texts, root, Fragment("a.py", 1, 300)).splitlines()
    assert len(long) == CODE_MAX_LINES + 1 and long[-1] == f"... ({300 - CODE_MAX_LINES} more lines)"
    assert fragment_code(texts, root, Fragment("../secret.py", 1, 1)) == "(outside the scanned root; not shown)"
    assert fragment_code(texts, root, Fragment("gone.py", 1, 2)) == "(the file is no longer there)"


def test_a_clone_in_full_masks_secrets_and_names_the_language(tmp_path):
    """A clone shown in full has its secret literals masked unless told otherwise, and the engine's language."""
    (tmp_path / "a.py").write_text('API_TOKEN = "sk_live_0123456789abcdef"\n')
    (tmp_path / "b.ts").write_text('const API_TOKEN = "sk_live_0123456789abcdef";\n')
    clone = Clone("cabc1234", "exact", 1.0, 1, 5, (Fragment("a.py", 1, 1), Fragment("b.ts", 1, 1)), "")
    scan = ScanInfo(1, str(tmp_path), "2026-01-01T00:00:00+00:00", 0.1, 2, 2, 2, 100.0, 1, 1, None)
    masked = clone_in_full(clone, scan)
    assert [part.language for part in masked.parts[1:]] == ["python", "typescript"]
    assert all("sk_live_0123456789abcdef" not in part.text for part in masked.parts[1:])
    assert "sk_live_0123456789abcdef" in clone_in_full(clone, scan, masked=False).parts[1].text
