"""The index commands: /duplicates with its page and code buttons, and a clone shown in full."""
from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import NamedTuple

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.args import MAX_ID, parse_int, quoted
from bot.catalog import usage
from bot.exceptions import ButtonExpiredError, NotFoundError, UsageError
from bot.render import Report, button
from bot.replies import say, send
from bot.commands.refactor import refactor_keyboard
from bot.services import Services, masks_code, services
from bot.views import clone_report, duplicates_report
from engine.queries import ClonePage, ScanInfo
from engine.records import Clone, Fragment
from engine.sources import FragmentTexts
from metrics.sanitize import mask_code

MAX_TOP = 50
MAX_OFFSET = 10**9  # of a page button; far beyond any index
CODE_MAX_LINES = 200  # of one fragment shown in a chat
CODE_BUTTONS = 8  # under one page, in rows of four
REPO_NAME = re.compile(r"[A-Za-z0-9._-]+")  # as `scan --repo` accepts them
# A page button's scope: an optional repository (its names hold no '='), then the prefix.
SCOPE = re.compile(r"(?:@(?P<repo>[A-Za-z0-9._-]+))?=(?P<prefix>.*)", re.DOTALL)


class DuplicatesQuery(NamedTuple):
    """What /duplicates was asked for: a path prefix ('' for all), how many clones a page shows,
    and a repository ('' for all)."""

    prefix: str
    top: int
    repo: str = ""


class PageRef(NamedTuple):
    """A page of /duplicates as a button carries it."""

    scan_id: int
    offset: int
    top: int
    prefix: str
    repo: str = ""


def parse_duplicates_args(args: list[str], default_top: int) -> DuplicatesQuery:
    """`[repo:NAME] [path-prefix] [top N]` → (prefix, N, name)."""
    repos = [a for a in args if a.lower().startswith("repo:")]
    if len(repos) > 1 or (repos and not REPO_NAME.fullmatch(repos[0][5:])):
        raise UsageError(f"usage: {usage('duplicates')} — one repo:NAME at most, NAME of "
                         "letters, digits, '.', '_' or '-'")
    rest, top = [a for a in args if a not in repos], default_top
    lowered = [a.lower() for a in rest]
    if "top" in lowered:
        at = lowered.index("top")
        number = parse_int(rest[at + 1], 1, MAX_TOP) if at + 1 < len(rest) else None
        if number is None:
            raise UsageError(f"usage: {usage('duplicates')} (N is 1..{MAX_TOP})")
        top = number
        del rest[at:at + 2]
    if len(rest) > 1:
        raise UsageError(f"usage: {usage('duplicates')} — one path prefix at most")
    return DuplicatesQuery(rest[0] if rest else "", top, repos[0][5:] if repos else "")


async def duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the largest clone classes of the last scan, with page and code buttons."""
    svc = services(context)
    query = parse_duplicates_args(list(context.args or []), svc.config.page_size)
    scan = await asyncio.to_thread(svc.index.latest_scan)
    if scan is None:
        await say(update, context, "No scan in the index yet. An admin can start one with /scan.")
        return
    if query.repo and query.repo not in {r.name for r in scan.repos}:
        raise NotFoundError(unknown_repo(query.repo, scan))
    first = PageRef(scan.id, 0, query.top, query.prefix, query.repo)
    await send(update, context, await duplicates_page(svc, scan, first))


def unknown_repo(name: str, scan: ScanInfo) -> str:
    """The answer to a repository the last scan did not name, with those it did."""
    if not scan.repos:
        return (f"The last scan has no repository {quoted(name)}: it scanned plain paths. "
                "Scan with `--repo NAME=PATH` to name repositories.")
    known = ", ".join(sorted(r.name for r in scan.repos))
    return f"No repository {quoted(name)} in the last scan; its repositories: {known}."


async def duplicates_page(svc: Services, scan: ScanInfo, ref: PageRef) -> Report:
    """One page of /duplicates as a report with its buttons."""
    page = await asyncio.to_thread(svc.index.clones_page, scan, ref.prefix, ref.offset, ref.top, ref.repo)
    return duplicates_report(scan, page, ref.offset, time.time(), page_keyboard(svc, scan, page, ref.offset, ref.top))


def page_keyboard(svc: Services, scan: ScanInfo, page: ClonePage, offset: int,
                  top: int) -> InlineKeyboardMarkup | None:
    """A Code button per clone shown, and Prev/Next where there is more."""
    code_row = [button(f"Code {n}", f"code:{c.id}") for n, c in enumerate(page.clones, offset + 1)][:CODE_BUTTONS]
    def at(start: int) -> str:
        return page_button_data(svc, PageRef(scan.id, start, top, page.prefix, page.repo))

    nav = []
    if offset > 0:
        nav.append(button("◀ Prev", at(max(0, offset - top))))
    if offset + len(page.clones) < page.total:
        nav.append(button("Next ▶", at(offset + top)))
    rows = [row for row in (code_row[:4], code_row[4:], nav) if row]
    return InlineKeyboardMarkup(rows) if rows else None


def page_button_data(svc: Services, page: PageRef) -> str:
    """Callback data of a page button: `dup:SCAN:OFFSET:TOP:[@REPO]=PREFIX`; when that is too
    long for Telegram, a remembered key (`#KEY`) stands for the part after TOP."""
    head = f"dup:{page.scan_id}:{page.offset}:{page.top}:"
    scope = (f"@{page.repo}" if page.repo else "") + f"={page.prefix}"
    if len(f"{head}{scope}".encode()) < 64:
        return f"{head}{scope}"
    return f"{head}#{svc.remember_prefix(scope)}"


def parse_page(svc: Services, rest: str) -> PageRef:
    """The page a button's data (after `dup:`) names; ButtonExpiredError when damaged or forgotten."""
    fields = rest.split(":", 3)
    if len(fields) != 4:
        raise ButtonExpiredError("This button is damaged; run /duplicates again.")
    scan_id, offset, top, scope = fields
    numbers = parse_int(scan_id, 1, MAX_ID), parse_int(offset, 0, MAX_OFFSET), parse_int(top, 1, MAX_TOP)
    if scope.startswith("#"):
        found = svc.prefix_of(scope[1:])
        if found is None:
            raise ButtonExpiredError("This button is from before a restart; run /duplicates again.")
        scope = found
    matched = SCOPE.fullmatch(scope)
    if None in numbers or matched is None:
        raise ButtonExpiredError("This button is damaged; run /duplicates again.")
    return PageRef(*numbers, matched["prefix"], matched["repo"] or "")  # type: ignore[arg-type]


async def on_page_button(update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
    """A Prev/Next button: edit the message to that page."""
    svc = services(context)
    page = parse_page(svc, rest)
    scan = await asyncio.to_thread(svc.index.scan, page.scan_id)
    if scan is None:
        raise ButtonExpiredError("That scan is gone; run /duplicates again.")
    await send(update, context, await duplicates_page(svc, scan, page), edit=True)


async def on_code_button(update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
    """A Code button: send that clone in full."""
    await show_clone(update, context, rest)


# -- a clone in full ----------------------------------------------------------------------


async def show_clone(update: Update, context: ContextTypes.DEFAULT_TYPE, clone_id: str) -> None:
    """Send one clone in full (its code masked unless this chat may see it as it is)."""
    svc = services(context)
    found = await asyncio.to_thread(svc.index.clone, clone_id)
    if found is None:
        raise NotFoundError(f"No clone {clone_id} in the index (it may be from a pruned scan).")
    clone, scan = found
    masked = masks_code(svc, update)
    report = await asyncio.to_thread(clone_in_full, clone, scan, masked)
    await send(update, context, report._replace(keyboard=refactor_keyboard(svc, update, clone)))


def clone_in_full(clone: Clone, scan: ScanInfo, masked: bool = True) -> Report:
    """One clone with the code of every fragment, read from disk (each file once; secret literals
    masked unless `masked` is False)."""
    root = Path(scan.root).resolve()
    texts = FragmentTexts(root)
    codes = [fragment_code(texts, root, fragment) for fragment in clone.fragments]
    return clone_report(clone, scan, [mask_code(code) if masked else code for code in codes], time.time())


def fragment_code(texts: FragmentTexts, root: Path, fragment: Fragment) -> str:
    """A fragment's lines as they are on disk now, at most CODE_MAX_LINES; nothing outside the
    scanned root is read (an index is data, and its paths are not trusted)."""
    if not (root / fragment.path).resolve().is_relative_to(root):
        return "(outside the scanned root; not shown)"
    lines = texts.lines(fragment, CODE_MAX_LINES + 1)
    if not lines and not (root / fragment.path).is_file():
        return "(the file is no longer there)"
    if len(lines) > CODE_MAX_LINES:
        more = fragment.end_line - fragment.start_line + 1 - CODE_MAX_LINES
        lines = lines[:CODE_MAX_LINES] + [f"... ({more} more lines)"]
    return "\n".join(lines)
