"""The scan load benchmark's HTTP client against a small server on a real local socket.

The generator's numbers are only as good as its client: a kept-alive connection the server closed is sent anew
once, chunked answers and `Connection: close` are read right, a timeout or a wrong status counts as an error, and
the load is open: every request goes out on its schedule whether or not earlier ones were answered.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from benchmarks.bench_scan_load import (
    GENERATOR_NICE,
    Http,
    Pick,
    Server,
    Traffic,
    Workload,
    _load,
    ahead_of_the_server,
    plan,
    request_bytes,
)

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One request's head and body, or None when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


def answer(status: str, body: bytes, *fields: str) -> bytes:
    head = "".join(f"{f}\r\n" for f in (f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *fields))
    return f"{head}\r\n".encode() + body


def run(handler: Handler, client: Callable[[Server], Coroutine[Any, Any, None]]) -> None:
    """`client(server)` against a server on 127.0.0.1 whose connections `handler` serves."""

    async def main() -> None:
        listener = await asyncio.start_server(handler, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            await client(Server(f"http://127.0.0.1:{port}", "127.0.0.1", port, 0))

    asyncio.run(main())


def post(server: Server, body: bytes = b'{"raw": "x"}', **headers: str) -> bytes:
    return request_bytes(server.host, server.port, "POST", "/api/v1/scans/parse", body, headers)


def test_a_kept_alive_connection_is_reused_and_the_request_goes_out_as_built() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            seen.append(request)
            # The head and the body in separate writes, as gunicorn sends them.
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n")
            await writer.drain()
            await asyncio.sleep(0.01)
            writer.write(b'{"ok":true}')
            await writer.drain()
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port)
        assert await http.fetch(post(server, Authorization="Bearer t1")) == (200, b'{"ok":true}')
        assert await http.fetch(post(server, b"{}")) == (200, b'{"ok":true}')
        assert http.opened == 1
        http.close()

    run(handler, client)
    request_line, host, rest = seen[0].split(b"\r\n", 2)
    assert request_line == b"POST /api/v1/scans/parse HTTP/1.1" and host.startswith(b"Host: 127.0.0.1:")
    assert rest == (b"Content-Type: application/json\r\nContent-Length: 12\r\nAuthorization: Bearer t1\r\n\r\n"
                    b'{"raw": "x"}')
    assert seen[1].endswith(b"Content-Length: 2\r\n\r\n{}")


def test_a_chunked_answer_is_read_whole_and_the_connection_kept() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            for part in (b"HTTP/1.1 201 CREATED\r\nTransfer-Encoding: chunked\r\n\r\n", b"5\r\nhello\r\n",
                         b"1;ext=1\r\n \r\n6\r\nwor", b"ld!\r\n0\r\n", b"\r\n"):
                writer.write(part)
                await writer.drain()
                await asyncio.sleep(0.01)  # each part arrives on its own
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port)
        assert await http.fetch(post(server)) == (201, b"hello world!")
        assert await http.fetch(post(server)) == (201, b"hello world!")
        assert http.opened == 1
        http.close()

    run(handler, client)


def test_an_answer_with_connection_close_closes_it_and_the_next_request_opens_another() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(answer("200 OK", b"bye", "Connection: close"))
        await writer.drain()
        # The server keeps its end open: the client must not wait for it to close.
        await reader.read()
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port)
        assert await http.fetch(post(server)) == (200, b"bye")
        assert http.idle == []
        assert await http.fetch(post(server)) == (200, b"bye")
        assert http.opened == 2
        http.close()

    run(handler, client)
    assert connections == 2


def test_a_kept_alive_connection_the_server_closed_is_retried_once_on_a_new_one() -> None:
    requests = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        while await read_request(reader) is not None:
            requests += 1
            if requests == 2:
                break  # closes a kept-alive connection with the request unanswered, as at a keep-alive timeout
            writer.write(answer("200 OK", f"answer {requests}".encode()))
            await writer.drain()
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port)
        assert await http.fetch(post(server)) == (200, b"answer 1")
        assert await http.fetch(post(server)) == (200, b"answer 3")
        assert http.opened == 2
        http.close()

    run(handler, client)
    assert requests == 3


def test_a_kept_alive_connection_the_server_closed_while_idle_is_not_used_again() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer("200 OK", b"once"))  # keep-alive, as far as the answer says
        await writer.drain()
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port)
        assert await http.fetch(post(server)) == (200, b"once")
        await asyncio.sleep(0.05)  # the close arrives while the connection is idle (or, late, the retry covers it)
        assert await http.fetch(post(server)) == (200, b"once")
        assert http.opened == 2
        http.close()

    run(handler, client)


def test_a_new_connection_closed_unanswered_is_an_error_not_retried() -> None:
    requests = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal requests
        if await read_request(reader) is not None:
            requests += 1
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port)
        with pytest.raises(ConnectionResetError):
            await http.fetch(post(server))
        assert http.opened == 1
        http.close()

    run(handler, client)
    assert requests == 1


def test_a_timeout_ends_the_request_as_an_error_and_drops_its_connection() -> None:
    dropped = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            if b"slow" in request:
                continue  # never answered
            writer.write(answer("200 OK", b"quick"))
            await writer.drain()
        dropped.set()
        writer.close()

    async def client(server: Server) -> None:
        http = Http(server.host, server.port, timeout=0.2)
        with pytest.raises(TimeoutError):
            await http.fetch(post(server, b"slow"))
        await asyncio.wait_for(dropped.wait(), 5)
        assert await http.fetch(post(server)) == (200, b"quick")
        assert http.opened == 2
        http.close()

    run(handler, client)


def test_the_load_is_open_and_counts_wrong_statuses_and_timeouts_as_errors() -> None:
    total = 12
    arrived = 0
    everyone = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal arrived
        while (request := await read_request(reader)) is not None:
            arrived += 1
            if arrived == total:
                everyone.set()
            # No answer before every request has arrived: a generator that waited for answers would never
            # send them all.
            await everyone.wait()
            if b"never" in request:
                continue
            status = "500 INTERNAL SERVER ERROR" if b"fail" in request else "201 CREATED"
            writer.write(answer(status, b'{"error": "boom"}' if b"fail" in request else b"{}"))
            await writer.drain()
        writer.close()

    async def client(server: Server) -> None:
        kinds = ["receipt"] * (total - 2) + ["receipt", "parse"]
        bodies = [b"{}"] * (total - 2) + [b'{"fail": 1}', b'{"never": 1}']
        requests = [(kind, post(server, body)) for kind, body in zip(kinds, bodies, strict=True)]
        out = await _load(server, requests, rate=200.0, timeout=1.0)
        assert out.sent == total
        assert len(out.latencies["receipt"]) == total - 2
        assert out.errors == {"parse": 1, "pick": 0, "receipt": 1}
        assert out.examples["receipt"] == '500 {"error": "boom"}'
        assert out.examples["parse"].startswith("TimeoutError")
        assert out.connections == total  # none was free when the next request was due

    run(handler, client)


def test_the_generator_does_not_stop_to_collect_garbage_during_a_phase() -> None:
    import gc

    collections: list[int] = []
    seen = []  # the collections so far, as each request arrives

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            seen.append(len(collections))
            writer.write(answer("200 OK", b"{}"))
            await writer.drain()
        writer.close()

    def count(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(1)

    async def client(server: Server) -> None:
        requests = [("parse", post(server)) for _ in range(50)]
        thresholds = gc.get_threshold()
        gc.set_threshold(1)  # with the collector on, every few allocations would start a collection
        gc.callbacks.append(count)
        try:
            out = await _load(server, requests, rate=500.0, timeout=5.0)
        finally:
            gc.callbacks.remove(count)
            gc.set_threshold(*thresholds)
        assert len(out.latencies["parse"]) == 50 == len(seen)
        assert seen[0] == seen[-1], "the generator collected garbage during the phase"
        assert gc.isenabled()  # and collects again once it is over

    run(handler, client)


def test_the_generator_runs_ahead_of_the_server_while_it_measures_then_as_before() -> None:
    import os

    before = os.getpriority(os.PRIO_PROCESS, 0)
    with ahead_of_the_server() as ahead:
        during = os.getpriority(os.PRIO_PROCESS, 0)
    assert during == (GENERATOR_NICE if ahead else before)
    assert ahead or os.geteuid() != 0, "root may raise its priority"
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_a_phase_is_built_beforehand_as_the_handhelds_would_send_it_one_by_one() -> None:
    def workload() -> Workload:
        rng = random.Random(3)
        return Workload(tokens=[f"token-{i}" for i in range(3)],
                        scans=[("lot label", f"]C10109500000000001{rng.randrange(10**6)}") for _ in range(50)],
                        picks=[Pick(order_id=i, lot_id=100 + i, location="A-1", left=2) for i in range(4)],
                        receipt_lines=[{"supplier_id": 1, "sku": "SUGAR", "location": "DOCK"}],
                        stations=["DOCK"])

    server = Server("http://127.0.0.1:1", "127.0.0.1", 1, 0)
    mix = {"parse": 7, "pick": 2, "receipt": 1}
    built = plan(server, Traffic(workload(), mix, 15), rate=40.0, seconds=1.0, devices=4, only=None)
    one_by_one = Traffic(workload(), mix, 15)
    keys = set()
    for n, (kind, data) in enumerate(built):
        expected_kind, path, body, headers = one_by_one.next(n % 4)
        assert kind == expected_kind
        head, _, sent_body = data.partition(b"\r\n\r\n")
        assert head.startswith(f"POST {path} HTTP/1.1\r\n".encode())
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        assert fields["Authorization"] == headers["Authorization"]
        assert sent_body == body
        assert fields["Content-Length"] == str(len(body))
        if kind != "parse":  # a booking carries a key of its own
            keys.add(fields["Idempotency-Key"])
    assert len(keys) == sum(1 for kind, _ in built if kind != "parse")
    # Eight units to pick in all: once they are picked, picks give way to scans.
    assert sum(1 for kind, _ in built if kind == "pick") <= 8
