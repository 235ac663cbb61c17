"""The Lua scripts of jobqueue, loaded from the files the Rust crates compile in.

A script's source is its include files (``lua/include/<name>.lua``) in order,
then its own file, concatenated with no separator: exactly what
``jobqueue-core/src/store/scripts.rs`` builds, so the SHA1 is the same and
Rust and Python processes share the loaded scripts. The scripts are never
re-implemented here: the package ships a copy of ``jobqueue-core/src/lua``
(its ``lua`` directory is a symbolic link to it in the repository), and
``JOBQUEUE_LUA_DIR`` may point at another copy of that directory.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

#: Include sets, as docs/protocol.md's table ("| includes | scripts |") and
#: the Rust registry give them, for the scripts this package calls.
_FLOW = ("lib", "keys", "records", "new_jobs", "flow")
INCLUDES: Dict[str, Tuple[str, ...]] = {
    "heartbeat": ("lib",),
    "expired_leases": ("lib",),
    "fetch": ("lib", "keys", "records", "observe"),
    "ack": ("lib", "keys", "observe"),
    "retry": _FLOW + ("observe",),
    "bury": _FLOW + ("observe",),
    "handback": _FLOW,
    "reclaim": _FLOW,
    "promote": _FLOW,
    "expire": _FLOW + ("observe",),
    "enqueue_priority": _FLOW + ("tags",),
    "schedule": _FLOW + ("tags",),
    "enqueue_with_id": _FLOW + ("tags",),
    "enqueue_unique": _FLOW + ("tags",),
    "enqueue_idempotent": ("lib", "keys", "records", "new_jobs", "tags"),
    "parent_open": _FLOW,
    "link_child": ("lib",),
    "enqueue_waiting": _FLOW + ("tags", "deps"),
    "release_child": _FLOW + ("tags", "deps"),
    "fetch_limited": _FLOW + ("observe",),
    "ack_keyed": _FLOW + ("observe",),
    "ack_parents": _FLOW + ("observe",),
    "wake_waiters": ("lib",),
}


def lua_dir() -> Path:
    """Where the script files are read from: ``JOBQUEUE_LUA_DIR``, else the
    copy packaged with this module."""
    override = os.environ.get("JOBQUEUE_LUA_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class LuaScript:
    """One script: its name, full source and SHA1 (lowercase hex)."""

    name: str
    source: bytes
    sha: str


def load(name: str, directory: Path | None = None) -> LuaScript:
    """Builds script ``name`` from its files, as the Rust registry does."""
    base = directory or lua_dir()
    parts = [base / "include" / f"{include}.lua" for include in INCLUDES[name]]
    parts.append(base / f"{name}.lua")
    source = b"".join(part.read_bytes() for part in parts)
    return LuaScript(name, source, hashlib.sha1(source).hexdigest())


class Scripts:
    """The scripts this package calls, built once per process."""

    def __init__(self, directory: Path | None = None) -> None:
        self._by_name = {name: load(name, directory) for name in INCLUDES}

    def __getitem__(self, name: str) -> LuaScript:
        return self._by_name[name]

    def all(self) -> Tuple[LuaScript, ...]:
        """Every script, in the order of :data:`INCLUDES`."""
        return tuple(self._by_name.values())


_SHARED: Scripts | None = None


def shared() -> Scripts:
    """The process-wide :class:`Scripts` (built on first use)."""
    global _SHARED
    if _SHARED is None:
        _SHARED = Scripts()
    return _SHARED


def main() -> None:
    """``python -m jobqueue_client.scripts``: prints ``<name> <sha1>`` per script."""
    for script in shared().all():
        print(script.name, script.sha)


if __name__ == "__main__":
    main()
