"""Several event streams read as one, in arrival order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Ended:
    error: BaseException | None = None


async def merge(streams: Sequence[AsyncIterator[T]]) -> AsyncGenerator[T, None]:
    """Items of every stream as they come; ends when all have ended, fails when one fails.

    Closing the merged stream closes every stream under it.
    """
    queue: asyncio.Queue[T | _Ended] = asyncio.Queue()

    async def pump(stream: AsyncIterator[T]) -> None:
        try:
            async for item in stream:
                queue.put_nowait(item)
        except Exception as error:
            queue.put_nowait(_Ended(error))
        else:
            queue.put_nowait(_Ended())
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()

    pumps = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        running = len(pumps)
        while running:
            item = await queue.get()
            if isinstance(item, _Ended):
                if item.error is not None:
                    raise item.error
                running -= 1
            else:
                yield item
    finally:
        for task in pumps:
            task.cancel()
        for task in pumps:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
