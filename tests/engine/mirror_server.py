"""An HTTP server on 127.0.0.1 that serves fake MNIST archives, for download tests."""

import gzip
import hashlib
import http.server
import random
import threading

from engine.download import MNIST_SHA256

NAMES = tuple(MNIST_SHA256)


def _fake_archive(name: str, size: int) -> bytes:
    # Random bytes do not compress, so the archive is about ``size`` bytes long.
    payload = random.Random(name).randbytes(size)
    return gzip.compress(payload, mtime=0)


# Sizes chosen so that the first file spans several 64 KiB chunks.
CONTENT = {
    name: _fake_archive(name, size)
    for name, size in zip(NAMES, (300_000, 2_000, 50_000, 1_000), strict=True)
}
HASHES = {name: hashlib.sha256(data).hexdigest() for name, data in CONTENT.items()}


class FakeMirror:
    """A threaded HTTP server that serves ``CONTENT`` with scripted failures.

    ``failures[name]`` is a list of actions for the next requests of that file, used
    up one per request: an int is an HTTP status to send, "drop" sends the headers
    and half the body and closes the connection. Once the list is empty, the file is
    served whole. ``requests`` records every path requested.
    """

    def __init__(self) -> None:
        self.failures: dict[str, list[int | str]] = {}
        self.content = dict(CONTENT)
        self.requests: list[str] = []
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                mirror.requests.append(name)
                actions = mirror.failures.get(name, [])
                action = actions.pop(0) if actions else None
                if name not in mirror.content:
                    self.send_error(404)
                elif isinstance(action, int):
                    self.send_error(action)
                else:
                    self._send_file(mirror.content[name], drop=action == "drop")

            def _send_file(self, data: bytes, drop: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if drop:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                else:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mnist/"
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
