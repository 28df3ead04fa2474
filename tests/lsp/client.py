"""A small Language Server Protocol client, to talk to the real yaml-language-server (the
server behind VS Code's YAML extension and JetBrains' LSP support) over stdio."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from pathlib import Path

SERVER = Path(__file__).parent / "node_modules" / "yaml-language-server" / "bin"
SETTINGS = {
    "yaml": {
        "validate": True,
        "completion": True,
        "hover": True,
        "format": {"enable": False},
        "schemaStore": {"enable": False},  # no network: the schema comes from the modeline
    }
}


class LanguageServer:
    def __init__(self, root: Path):
        self.process = subprocess.Popen(
            ["node", str(SERVER / "yaml-language-server"), "--stdio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.messages: queue.Queue = queue.Queue()
        self.ids = iter(range(1, 10**9))
        threading.Thread(target=self._read, daemon=True).start()
        self.request(
            "initialize",
            {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {
                    "workspace": {"configuration": True},
                    "textDocument": {
                        "completion": {"completionItem": {"snippetSupport": False}},
                        "publishDiagnostics": {},
                        "hover": {"contentFormat": ["plaintext", "markdown"]},
                    },
                },
            },
        )
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdin.close()
        self.process.stdout.close()

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(stream.read(length)))

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method: str, params: dict) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: dict, timeout: float = 60):
        ident = next(self.ids)
        self._send({"id": ident, "method": method, "params": params})
        found = self.wait(lambda m: m.get("id") == ident and "method" not in m, timeout)
        return found.get("result")

    def wait(self, match, timeout: float = 60) -> dict:
        """The next message that matches, answering the server's own requests meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from yaml-language-server")
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                continue
            if "method" in message and "id" in message:  # the server asks us something
                self._answer(message)
            elif match(message):
                return message

    def _answer(self, message: dict) -> None:
        result = None
        if message["method"] == "workspace/configuration":
            result = [
                SETTINGS.get(item.get("section", ""), SETTINGS["yaml"])
                if item.get("section") != "yaml"
                else SETTINGS["yaml"]
                for item in message["params"]["items"]
            ]
        self._send({"id": message["id"], "result": result})

    def diagnostics(self, uri: str, timeout: float = 60) -> list[dict]:
        """The next diagnostics the server publishes for uri."""
        found = self.wait(
            lambda m: (
                m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
            ),
            timeout,
        )
        return found["params"]["diagnostics"]
