"""A local stand-in of the Telegram Bot API (and GitHub's /rate_limit), for tests and benchmarks.

    with FakeBotApi() as api:
        app = build_application(config, api.token, db, base_url=api.base_url)
        async with polling(app):
            api.push_command(42, "/status")
            await asyncio.to_thread(api.wait_for, lambda: api.sent(chat_id=42))

A stdlib ThreadingHTTPServer on 127.0.0.1 and a free port. It answers the
methods the bot uses (getMe, deleteWebhook, getUpdates with scripted updates
and long polling, sendMessage, editMessageText, sendDocument as multipart,
answerCallbackQuery, setMyCommands) and records every call. Like Telegram it
refuses, with HTTP 400 and Telegram's description, a text over 4096 or a
caption over 1024 characters (UTF-16 code units, counted after the HTML is
parsed), an empty text, HTML it cannot parse, and callback data over 64
bytes. Every wait is bounded in time.
"""
from __future__ import annotations

import contextlib
import email.parser
import email.policy
import html.parser
import json
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import parse_qs, urlparse

if TYPE_CHECKING:
    from telegram.ext import Application

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "CodeBot", "username": "codebot_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
# Long polls are cut short so that a stopping bot never waits long on the stand-in.
MAX_POLL_S = 0.25
TEXT_LIMIT, CAPTION_LIMIT, CALLBACK_LIMIT = 4096, 1024, 64
# The tags Telegram's HTML parse mode knows.
TELEGRAM_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
                           "a", "tg-emoji", "code", "pre", "blockquote"})


class Upload(NamedTuple):
    """A file sent with a call (multipart), e.g. sendDocument's document."""

    filename: str
    content: bytes


class Call(NamedTuple):
    """One Bot API call the stand-in received."""

    method: str
    params: dict[str, Any]
    files: dict[str, Upload]
    at: float
    status: int = 200
    description: str = ""


# Strings travel as they are; everything else is JSON (python-telegram-bot's RequestData).
_PLAIN = frozenset({"text", "caption", "callback_query_id", "data", "parse_mode", "url", "description"})


def _decode(key: str, value: str) -> Any:
    if key in _PLAIN:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class _TelegramHtml(html.parser.HTMLParser):
    """Telegram's reading of an HTML text: the visible text, or ValueError where it gives up."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            raise ValueError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise ValueError(f'Unsupported start tag "{tag}"')

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            expected = f'"</{self.open[-1]}>"' if self.open else "no end tag"
            raise ValueError(f'Unmatched end tag, expected {expected}, found "</{tag}>"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram shows for `text` (its tags parsed when the parse mode is HTML)."""
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"')
    return "".join(parser.text)


def utf16_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def refusal(method: str, params: dict[str, Any]) -> str | None:
    """Telegram's description of why it would refuse this call, or None when it would accept it."""
    checks = {"sendMessage": ("text", TEXT_LIMIT, "message is too long"),
              "editMessageText": ("text", TEXT_LIMIT, "MESSAGE_TOO_LONG"),
              "sendDocument": ("caption", CAPTION_LIMIT, "message caption is too long")}
    if method in checks:
        field, limit, too_long = checks[method]
        try:
            shown = visible_text(str(params.get(field) or ""), params.get("parse_mode"))
        except ValueError as exc:
            return f"Bad Request: can't parse entities: {exc}"
        if field == "text" and not shown.strip():
            return "Bad Request: message text is empty"
        if utf16_length(shown) > limit:
            return f"Bad Request: {too_long}"
    markup = params.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    if any(len(str(b.get("callback_data", "")).encode()) > CALLBACK_LIMIT for row in rows for b in row):
        return "Bad Request: BUTTON_DATA_INVALID"
    return None


class Body(NamedTuple):
    """A Bot API call's parameters and uploaded files."""

    params: dict[str, Any]
    files: dict[str, Upload]


def parse_body(content_type: str, body: bytes) -> Body:
    """The parameters and files of a POST as python-telegram-bot sends them (form or multipart)."""
    params: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename:
                files[str(name)] = Upload(filename, payload)
            else:
                params[str(name)] = _decode(str(name), payload.decode())
    elif body:
        for key, values in parse_qs(body.decode(), keep_blank_values=True).items():
            params[key] = _decode(key, values[-1])
    return Body(params, files)


class FakeBotApi:
    """The stand-in server: scripted updates in, recorded calls out."""

    def __init__(self, token: str = "123456:TEST-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.answers: dict[int, queue.Queue[Call]] = {}
        self.github_core = {"limit": 5000, "remaining": 4321, "reset": int(time.time()) + 1800, "used": 679}
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1000
        self._confirmed = 0
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-bot-api",
                                        daemon=True)

    # -- lifecycle ---------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    @property
    def github_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/github"

    def __enter__(self) -> FakeBotApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- scripting updates -------------------------------------------------------------

    def _push(self, payload: dict[str, Any]) -> int:
        with self._cond:
            update_id = self._next_update
            self._next_update += 1
            self._updates.append({"update_id": update_id, **payload})
            self._cond.notify_all()
        return update_id

    def push_command(self, user_id: int, text: str, chat_id: int | None = None) -> int:
        """Queue a message with a command from a user (in their private chat unless told)."""
        chat = chat_id if chat_id is not None else user_id
        command = text.split()[0] if text.split() else text
        with self._cond:
            self._next_message += 1
            message_id = self._next_message
        return self._push({"message": {
            "message_id": message_id, "date": int(time.time()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "group", "title": "team"},
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": utf16_length(command)}]}})

    def push_button(self, user_id: int, data: str, message: dict[str, Any]) -> int:
        """Queue a press of an inline button with `data` under a message the bot sent."""
        return self._push({"callback_query": {
            "id": f"cb{self._next_update}", "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": f"user{user_id}"},
            "message": message, "data": data}})

    @property
    def confirmed(self) -> int:
        """The highest update id the bot has confirmed (by asking for a later offset)."""
        return self._confirmed

    @property
    def pushed(self) -> int:
        return self._next_update - 1

    # -- reading what the bot did ------------------------------------------------------

    def sent(self, method: str | tuple[str, ...] = ("sendMessage", "sendDocument", "editMessageText"),
             chat_id: int | None = None) -> list[Call]:
        """Calls of these methods (to this chat) that were accepted, in order."""
        methods = (method,) if isinstance(method, str) else method
        with self._cond:
            return [c for c in self.calls if c.method in methods and c.status == 200
                    and (chat_id is None or int(c.params.get("chat_id", 0)) == chat_id)]

    def rejected(self) -> list[Call]:
        """Calls refused as Telegram would refuse them (oversize, unparsable HTML, ...), in order."""
        with self._cond:
            return [c for c in self.calls if c.status != 200]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until `predicate()` is truthy and return it; AssertionError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting for the bot; calls: "
                                         f"{[c.method for c in self.calls][-20:]}")
                self._cond.wait(min(left, 0.2))

    def answer_queue(self, chat_id: int) -> queue.Queue[Call]:
        """A queue receiving every message the bot sends to one chat (for load tests)."""
        with self._cond:
            return self.answers.setdefault(chat_id, queue.Queue())

    # -- the server side ---------------------------------------------------------------

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        with self._cond:
            self._next_message += 1
            message_id = self._next_message
        chat = int(params.get("chat_id", 0))
        message = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": chat, "type": "private" if chat > 0 else "group", "title": "team"}, **extra}
        if "reply_markup" in params and isinstance(params["reply_markup"], dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), MAX_POLL_S)
        deadline = time.monotonic() + wait
        with self._cond:
            if offset:
                self._confirmed = max(self._confirmed, offset - 1)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return list(self._updates[: int(params.get("limit") or 100)])

    def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        refused = refusal(method, params)
        if refused is not None:
            return 400, {"ok": False, "error_code": 400, "description": refused}
        if method == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        if method in ("sendMessage", "editMessageText"):
            return 200, {"ok": True, "result": self._message(params, text=str(params.get("text", "")))}
        if method == "sendDocument":
            return 200, {"ok": True, "result": self._message(params, document={
                "file_id": "doc1", "file_unique_id": "udoc1", "file_name": "report.html"},
                caption=str(params.get("caption", "")))}
        if method in ("deleteWebhook", "setWebhook", "setMyCommands", "answerCallbackQuery",
                      "deleteMyCommands",
                      "sendChatAction", "close", "logOut"):
            return 200, {"ok": True, "result": True}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            target = self.answers.get(int(call.params.get("chat_id", 0) or 0))
            self._cond.notify_all()
        if target is not None and call.method in ("sendMessage", "sendDocument") and call.status == 200:
            target.put(call)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
                pass

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the bot gave up on a long poll while stopping

            def do_GET(self) -> None:  # noqa: N802
                if urlparse(self.path).path == "/github/rate_limit":
                    self._reply(200, {"resources": {"core": api.github_core}})
                else:
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlparse(self.path).path.split("/")
                method = parts[-1]
                if len(parts) < 3 or parts[-2] != f"bot{api.token}":
                    self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                    return
                params, files = parse_body(self.headers.get("Content-Type", ""), body)
                status, payload = api._answer(method, params)
                api._record(Call(method, params, files, time.monotonic(), status, payload.get("description", "")))
                self._reply(status, payload)

        return Handler


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:
    """The application polling its Bot API, started and stopped the way `run_polling` does."""
    async with app:
        await app.post_init(app)  # type: ignore[misc]
        await app.updater.start_polling(poll_interval=0, timeout=1)  # type: ignore[union-attr]
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()  # type: ignore[union-attr]
            await app.stop()
            await app.post_shutdown(app)  # type: ignore[misc]
