"""Sending commands and script calls in one pipelined round trip.

A script is called with ``EVALSHA``; when Redis does not know it (after a
restart or ``SCRIPT FLUSH``) the call fails with ``NOSCRIPT`` without
running, so the script is loaded and only the calls that failed are sent
again. The sync and asyncio clients share everything but the I/O.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, cast

import redis
from redis.exceptions import NoScriptError, ResponseError

from .scripts import LuaScript


class Command:
    """One command: its arguments, and the script when it is an ``EVALSHA``."""

    __slots__ = ("args", "script")

    def __init__(self, *args: Any, script: Optional[LuaScript] = None) -> None:
        self.args = args
        self.script = script

    @staticmethod
    def evalsha(script: LuaScript, keys: Sequence[str], args: Sequence[Any]) -> "Command":
        """A call of ``script`` with ``keys`` and ``args``."""
        return Command("EVALSHA", script.sha, len(keys), *keys, *args, script=script)


def _is_noscript(result: Any) -> bool:
    return isinstance(result, NoScriptError) or (
        isinstance(result, ResponseError) and str(result).startswith("NOSCRIPT"))


def _missing(commands: Sequence[Command], results: List[Any]) -> List[int]:
    return [i for i, result in enumerate(results)
            if commands[i].script is not None and _is_noscript(result)]


def _scripts_of(commands: Sequence[Command], indices: List[int]) -> List[LuaScript]:
    """The distinct scripts of the commands at ``indices``."""
    found: Dict[str, LuaScript] = {}
    for i in indices:
        script = commands[i].script
        if script is not None:
            found[script.sha] = script
    return list(found.values())


def _raise_first_error(results: List[Any]) -> List[Any]:
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def run(client: "redis.Redis", commands: Sequence[Command]) -> List[Any]:
    """Sends ``commands`` in one pipeline; returns their replies (raises the first error)."""
    results = _pipeline(client, commands)
    missing = _missing(commands, results)
    if missing:
        for script in _scripts_of(commands, missing):
            client.script_load(script.source)
        again = _pipeline(client, [commands[i] for i in missing])
        for i, result in zip(missing, again):
            results[i] = result
    return _raise_first_error(results)


def _pipeline(client: "redis.Redis", commands: Sequence[Command]) -> List[Any]:
    if len(commands) == 1:  # one command: no pipeline to build
        try:
            return [cast(Any, client).execute_command(*commands[0].args)]
        except ResponseError as err:
            return [err]
    pipe = cast(Any, client.pipeline(transaction=False))
    for command in commands:
        pipe.execute_command(*command.args)
    return list(pipe.execute(raise_on_error=False))


async def run_async(client: "redis.asyncio.Redis", commands: Sequence[Command]) -> List[Any]:
    """:func:`run` for ``redis.asyncio``."""
    results = await _pipeline_async(client, commands)
    missing = _missing(commands, results)
    if missing:
        for script in _scripts_of(commands, missing):
            await client.script_load(script.source)
        again = await _pipeline_async(client, [commands[i] for i in missing])
        for i, result in zip(missing, again):
            results[i] = result
    return _raise_first_error(results)


async def _pipeline_async(client: "redis.asyncio.Redis", commands: Sequence[Command]) -> List[Any]:
    if len(commands) == 1:  # one command: no pipeline to build
        try:
            return [await cast(Any, client).execute_command(*commands[0].args)]
        except ResponseError as err:
            return [err]
    pipe = cast(Any, client.pipeline(transaction=False))
    for command in commands:
        pipe.execute_command(*command.args)
    return list(await pipe.execute(raise_on_error=False))
