"""A stand-in for a Zebra label printer: a local TCP listener that answers ~HS and keeps what it is sent."""

from __future__ import annotations

import socket
import threading

STX, ETX = b"\x02", b"\x03"


def host_status(paper_out: bool = False, paused: bool = False, head_open: bool = False,
                ribbon_out: bool = False, thermal_transfer: bool = False) -> bytes:
    """A Zebra ~HS reply: three <STX>…<ETX><CR><LF> strings with the given flags."""
    first = f"030,{int(paper_out)},{int(paused)},1218,000,0,0,0,000,0,0,0".encode()
    second = f"000,0,{int(head_open)},{int(ribbon_out)},{int(thermal_transfer)},2,6,0,00000000,1,000".encode()
    return b"".join(STX + s + ETX + b"\r\n" for s in (first, second, b"1234,0"))


class FakeZebra:
    """A TCP listener on 127.0.0.1 standing in for a Zebra printer on its raw port.

    It answers ~HS with `status` (or stays silent), and keeps every connection's bytes. With
    `read=False` it accepts connections but never reads from them, like a hung printer.
    """

    def __init__(self, status: bytes | None = None, *, answer: bool = True, read: bool = True) -> None:
        self.status = host_status() if status is None else status
        self.answer = answer
        self.read = read
        self.received: list[bytes] = []
        self.held: list[socket.socket] = []
        self.done = threading.Semaphore(0)
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if not self.read:
                self.held.append(conn)
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data, answered = b"", False
        conn.settimeout(10)
        with conn:
            try:
                while chunk := conn.recv(65536):
                    data += chunk
                    if self.answer and not answered and data.startswith(b"~HS"):
                        answered = True
                        conn.sendall(self.status)
            except OSError:
                pass
        self.received.append(data)
        self.done.release()

    def wait(self, connections: int = 1) -> list[bytes]:
        """Every connection's bytes, once `connections` have ended."""
        for _ in range(connections):
            assert self.done.acquire(timeout=10), "the printer got no (finished) connection"
        return self.received

    @property
    def jobs(self) -> list[bytes]:
        """What each connection sent after the status query: the labels."""
        return [data.removeprefix(b"~HS") for data in self.received]

    def close(self) -> None:
        self.server.close()
        for conn in self.held:
            conn.close()
