"""A TCP proxy for network fault tests: forwards, or blackholes live connections.

A blackhole keeps both sockets open and silently discards every byte, as a dead Wi-Fi link or
a stateful firewall that forgot the flow does: no FIN, no RST, only silence.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._links: list[dict[str, bool]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def blackhole_existing(self) -> int:
        """Every live connection goes silent; new ones are forwarded. Returns how many."""
        for link in self._links:
            link["dead"] = True
        return len(self._links)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        link = {"dead": False}
        self._links.append(link)
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst, link))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, link: dict[str, bool]
    ) -> None:
        try:
            while data := await src.read(65536):
                if not link["dead"]:
                    dst.write(data)
                    await dst.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if not link["dead"]:
                with contextlib.suppress(Exception):
                    dst.close()
