"""A scripted fake of the Anthropic Messages API on 127.0.0.1, for running the real `claude` binary offline.

The fake plays the model. A *script* is a list of steps; the reply to a main-loop request (one that offers
the ``Bash`` tool) is the step whose index is the number of assistant turns already in the conversation,
so a retried request gets the same answer. A step is a list of content blocks, or a callable
``step(convo) -> blocks`` that can read earlier tool results. Blocks are made with ``text(...)`` and
``tool(name, **input)``; a reply with a tool_use block stops with ``tool_use``, otherwise ``end_turn``.
Other requests (titles, summaries, checks Claude Code makes on the side) get a short text reply.

Replies stream as server-sent events, the way the real API streams them (``message_start``,
``content_block_start/delta/stop``, ``message_delta``, ``message_stop``); a non-streaming request gets the
whole message as JSON. Every request body is kept in ``requests`` for the test to assert on.
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterable, Union

Block = dict
Step = Union[list, Callable[["Conversation"], list]]


def text(value: str) -> Block:
    return {"type": "text", "text": value}


def tool(name: str, **tool_input) -> Block:
    return {"type": "tool_use", "name": name, "input": tool_input}


class Conversation:
    """The conversation as one main-loop request carries it."""

    def __init__(self, body: dict) -> None:
        self.body = body
        self.messages = body.get("messages", [])

    def tool_results(self) -> list[dict]:
        """Every tool_result block, oldest first, with its content flattened to text."""
        results = []
        for message in self.messages:
            content = message.get("content")
            if message.get("role") != "user" or not isinstance(content, list):
                continue
            for block in content:
                if block.get("type") == "tool_result":
                    results.append({"tool_use_id": block.get("tool_use_id"), "is_error": bool(block.get("is_error")),
                                    "text": flatten(block.get("content"))})
        return results

    def last_result(self) -> str:
        results = self.tool_results()
        return results[-1]["text"] if results else ""

    def first_user_text(self) -> str:
        for message in self.messages:
            if message.get("role") == "user":
                return flatten(message.get("content"))
        return ""


def flatten(content) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(flatten(part.get("text", part.get("content", ""))) if isinstance(part, dict) else str(part)
                         for part in content)
    return "" if content is None else str(content)


_FAKES = itertools.count(1)


class FakeAnthropic:
    """Run with ``with FakeAnthropic(script) as fake:``; point ``ANTHROPIC_BASE_URL`` at ``fake.url``."""

    def __init__(self, script: Iterable[Step], model: str = "claude-sonnet-4-5") -> None:
        self.script = list(script)
        self.model = model
        self.requests: list[dict] = []
        self.paths: list[str] = []
        self._ids = itertools.count(1)
        self._offset: int | None = None   # assistant turns already in the conversation (a --continue session)
        self._tag = f"{next(_FAKES):x}"    # tool_use ids stay unique across the sessions of one conversation
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> "FakeAnthropic":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------ what the fake model says

    def main_requests(self) -> list[dict]:
        return [body for body in self.requests if is_main_loop(body)]

    def results_for(self, tool_use_id: str) -> dict:
        """The tool_result Claude Code sent back for one of our tool_use ids."""
        for body in reversed(self.main_requests()):
            for result in Conversation(body).tool_results():
                if result["tool_use_id"] == tool_use_id:
                    return result
        raise KeyError(f"no tool_result for {tool_use_id}")

    def tool_id(self, turn: int, block: int = 0) -> str:
        """The id of the ``block``-th tool call of scripted turn ``turn``."""
        return f"toolu_{self._tag}{turn:02d}_{block}"

    def results_by_label(self, labels: list[str]) -> dict[str, dict]:
        """The tool result of each scripted turn's first tool call, by the turn's label (turn ``i`` is
        ``labels[i]``); a turn that got no result maps to ``is_error: None``."""
        got = {}
        for turn, label in enumerate(labels):
            try:
                got[label] = self.results_for(self.tool_id(turn))
            except KeyError:
                got[label] = {"is_error": None, "text": "(no tool result)"}
        return got

    def reply(self, body: dict) -> list[Block]:
        if not is_main_loop(body):
            return [text("ok")]
        convo = Conversation(body)
        turn = sum(1 for m in convo.messages if m.get("role") == "assistant")
        if self._offset is None:
            self._offset = turn  # a continued session starts with the earlier sessions' turns: the script starts here
        turn -= self._offset
        if turn >= len(self.script):
            return [text("(script finished)")]
        step = self.script[turn]
        blocks = step(convo) if callable(step) else step
        return [dict(block, id=self.tool_id(turn, i)) if block["type"] == "tool_use" else block
                for i, block in enumerate(blocks)]

    # ------------------------------------------------------------ HTTP

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, payload: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._send(200, b"{}", "application/json")

            do_HEAD = do_GET

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = {}
                with fake._lock:
                    fake.paths.append(self.path)
                    fake.requests.append(body)
                if not self.path.startswith("/v1/messages") or "count_tokens" in self.path:
                    self._send(200, json.dumps({"input_tokens": 100}).encode(), "application/json")
                    return
                try:
                    blocks = fake.reply(body)
                except Exception as exc:  # a broken script: say so in the transcript, don't hang claude
                    blocks = [text(f"fake model script error: {type(exc).__name__}: {exc}")]
                message_id = f"msg_{next(fake._ids):04d}"
                stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
                if body.get("stream"):
                    self._send(200, sse(message_id, fake.model, blocks, stop).encode(), "text/event-stream")
                else:
                    message = {"id": message_id, "type": "message", "role": "assistant", "model": fake.model,
                               "content": blocks, "stop_reason": stop, "stop_sequence": None,
                               "usage": {"input_tokens": 100, "output_tokens": 20}}
                    self._send(200, json.dumps(message).encode(), "application/json")

        return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # claude drops keep-alive connections at exit
        pass


def is_main_loop(body: dict) -> bool:
    return any(t.get("name") == "Bash" for t in body.get("tools") or [])


def sse(message_id: str, model: str, blocks: list[Block], stop: str) -> str:
    def event(name: str, data: dict) -> str:
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    out = [event("message_start", {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 100, "output_tokens": 1}}})]
    for index, block in enumerate(blocks):
        if block["type"] == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        out.append(event("content_block_start", {"type": "content_block_start", "index": index,
                                                 "content_block": start}))
        out.append(event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        out.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
    out.append(event("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                       "usage": {"output_tokens": 20}}))
    out.append(event("message_stop", {"type": "message_stop"}))
    return "".join(out)
