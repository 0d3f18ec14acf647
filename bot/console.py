"""`--console`: the same Application and handlers, driven from stdin, answers printed as plain text.

Each input line becomes a Telegram update from the console user (an admin)
and goes through `Application.process_update`; the Bot API calls the handlers
make are answered by `ConsoleRequest`, which prints what would have been sent.
Inline buttons are printed numbered, and `/press N` presses one: the same
callback query Telegram would send, so paging and code buttons work here too.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any, TextIO

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.args import parse_int
from bot.render import to_text
from bot.services import KEY

CONSOLE_BOT = {"id": 1000, "is_bot": True, "first_name": "CodeBot", "username": "codebot_console_bot",
               "can_join_groups": False, "can_read_all_group_messages": False,
               "supports_inline_queries": False}


class ConsoleRequest(BaseRequest):
    """A Bot API that prints messages instead of sending them."""

    def __init__(self, out: TextIO, chat_id: int) -> None:
        self.out = out
        self.chat_id = chat_id
        self._message_id = 0
        # The buttons of the last answer that had any, and that answer: what /press N presses.
        self.buttons: list[dict[str, Any]] = []
        self.buttons_message: dict[str, Any] = {}

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        self._message_id += 1
        chat = params.get("chat_id", self.chat_id)
        # An edited message keeps its id.
        message_id = int(params.get("message_id") or self._message_id)
        return {"message_id": message_id, "date": int(time.time()),
                "chat": {"id": int(chat), "type": "private"}, "from": CONSOLE_BOT, **extra}

    def _print(self, text: str, markup: Any = None, message: dict[str, Any] | None = None) -> None:
        self.out.write(to_text(text) + "\n")
        keyboard = (json.loads(markup) if isinstance(markup, str) else markup) or {}
        buttons = [b for row in keyboard.get("inline_keyboard", []) for b in row]
        if buttons and message is not None:
            self.buttons, self.buttons_message = buttons, message
            labels = [f"[{number}] {b['text']}" for number, b in enumerate(buttons, 1)]
            self.out.write("buttons: " + "  ".join(labels) + "  (/press N)\n")
        self.out.write("\n")
        self.out.flush()

    def say(self, text: str) -> None:
        """Print a note of the console itself (not an answer of the bot)."""
        self.out.write(text + "\n\n")
        self.out.flush()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None, connect_timeout: Any = None,
                         pool_timeout: Any = None) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: Any = True
        if name == "getMe":
            result = CONSOLE_BOT
        elif name in ("sendMessage", "editMessageText"):
            result = self._message(params, text=params.get("text", ""))
            self._print(str(params.get("text", "")), params.get("reply_markup"), result)
        elif name == "sendDocument":
            files = (request_data.multipart_data if request_data else None) or {}
            filename, content, _ = files.get("document", ("report.html", b"", "text/html"))
            content = content if isinstance(content, bytes) else b""
            result = self._message(params, document={"file_id": f"doc{self._message_id}",
                                                     "file_unique_id": f"u{self._message_id}",
                                                     "file_name": filename})
            self._print(f"{params.get('caption', '')}\n[document {filename}, {len(content):,} bytes]\n"
                        + content.decode("utf-8", "replace"), params.get("reply_markup"), result)
        elif name == "getUpdates":
            result = []
        return 200, json.dumps({"ok": True, "result": result}).encode()


def update_for(line: str, update_id: int, user_id: int) -> dict[str, Any]:
    """The Bot API JSON of a private message with a command typed by the user."""
    text = line if line.startswith("/") else "/" + line
    command = text.split()[0]
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "console"},
        "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}}


def press_for(request: ConsoleRequest, args: list[str], update_id: int, user_id: int) -> dict[str, Any] | str:
    """The Bot API JSON of pressing button N of the last answer with buttons, or why it cannot be pressed."""
    if not request.buttons:
        return "/press N presses a button of an answer; no answer with buttons yet."
    count = len(request.buttons)
    number = parse_int(args[0], 1, count) if len(args) == 1 else None
    if number is None:
        return f"usage: /press N, where N is 1..{count}, a button of the last answer with buttons."
    data = request.buttons[number - 1].get("callback_data")
    if data is None:
        return f"button {number} is a link: {request.buttons[number - 1].get('url', '')}"
    return {"update_id": update_id, "callback_query": {
        "id": f"press{update_id}", "chat_instance": "console", "data": data, "message": request.buttons_message,
        "from": {"id": user_id, "is_bot": False, "first_name": "console"}}}


def _is_press(line: str) -> bool:
    return line.split()[0].lower() in ("/press", "press")


async def run_console(app: Application, lines: TextIO, user_id: int, request: ConsoleRequest) -> int:
    """Feed each line of `lines` to the application as a command (or a button press, for /press N);
    return 0 at the end of input."""
    async with app:
        await app.post_init(app)  # type: ignore[misc]
        update_id = 0
        while True:
            line = await asyncio.to_thread(lines.readline)
            if not line:
                break
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            update_id += 1
            if _is_press(line):
                update = press_for(request, line.split()[1:], update_id, user_id)
                if isinstance(update, str):
                    request.say(update)
                    continue
            else:
                update = update_for(line, update_id, user_id)
            await app.process_update(Update.de_json(update, app.bot))
            # A script reads top to bottom: a /scan finishes before the next line runs.
            background = app.bot_data[KEY].background
            if background:
                await asyncio.gather(*list(background), return_exceptions=True)
        await app.post_shutdown(app)  # type: ignore[misc]
    return 0
