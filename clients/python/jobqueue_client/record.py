"""The record format (docs/protocol.md, "The record").

A record is the compact JSON envelope, one newline, and the payload JSON.
The envelope's members keep the Rust order (``id`` first, ``type`` second:
the Lua scripts read the id at bytes 8-43 and edit members as text), and
members holding their default are left out.
"""

from __future__ import annotations

import json
import random
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

#: Envelope members in the order the Rust `Envelope` serializes them.
ENVELOPE_ORDER = (
    "id", "type", "attempt", "max_attempts", "priority", "timeout_ms", "backoff",
    "run_at", "version", "traceparent", "errors", "cron", "unique", "expires_at",
    "track", "dependents", "after", "on_parent_failure", "flow", "workflow",
    "batch", "tags", "enc",
)
#: Most error entries kept in a job's history (Rust: MAX_ERROR_HISTORY).
MAX_ERROR_HISTORY = 10
#: Longest error message kept, in bytes (Rust: MAX_ERROR_MESSAGE_BYTES).
MAX_ERROR_MESSAGE_BYTES = 2048
#: Attempts of a job type that sets none (Rust: DEFAULT_MAX_ATTEMPTS).
DEFAULT_MAX_ATTEMPTS = 25
#: Time limit of one run when neither the job nor its type sets one (Rust: DEFAULT_TIMEOUT).
DEFAULT_TIMEOUT_S = 30 * 60.0

#: One encoder for every record (json.dumps with options builds a new one per call).
_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def uuid7() -> str:
    """A fresh UUID version 7 (48 bits of Unix ms, then random bits), lowercase."""
    ms = time.time_ns() // 1_000_000
    value = (ms & ((1 << 48) - 1)) << 80 | secrets.randbits(80)
    value = (value & ~(0xF << 76)) | (0x7 << 76)
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return str(uuid.UUID(int=value))


def to_json(value: Any) -> str:
    """Compact JSON as serde_json writes it (no whitespace, UTF-8 kept)."""
    return _COMPACT.encode(value)


def encode_envelope(envelope: Dict[str, Any]) -> bytes:
    """The envelope as compact JSON, members in the Rust order (unknown ones last)."""
    ordered = {name: envelope[name] for name in ENVELOPE_ORDER if name in envelope}
    for name, value in envelope.items():
        ordered.setdefault(name, value)
    return to_json(ordered).encode()


def encode_record(envelope: Dict[str, Any], payload: bytes) -> bytes:
    """``<envelope>\\n<payload>``; ``payload`` is JSON text without a raw newline."""
    return encode_envelope(envelope) + b"\n" + payload


def record_id(record: bytes) -> str:
    """The id as the scripts read it: bytes 8-43 of the record."""
    return record[7:43].decode("utf-8", "replace")


class MalformedRecord(ValueError):
    """A record that is not an envelope, a newline and a payload."""


def split_record(record: bytes) -> Tuple[Dict[str, Any], bytes]:
    """The decoded envelope and the raw payload bytes."""
    newline = record.find(b"\n")
    if newline < 0:
        raise MalformedRecord("no newline between envelope and payload")
    try:
        envelope = json.loads(record[:newline])
    except ValueError as err:
        raise MalformedRecord(f"the envelope is not JSON: {err}") from err
    if not isinstance(envelope, dict) or not isinstance(envelope.get("id"), str) \
            or not isinstance(envelope.get("type"), str):
        raise MalformedRecord("the envelope has no string id and type")
    return envelope, record[newline + 1:]


def truncate_utf8(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, at a character boundary."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def error_entry(attempt: int, kind: str, message: str) -> Dict[str, Any]:
    """An error-history entry ``{"attempt","at","kind","message"}``."""
    return {
        "attempt": attempt,
        "at": time.time_ns() // 1_000_000,
        "kind": kind,
        "message": truncate_utf8(message, MAX_ERROR_MESSAGE_BYTES),
    }


def push_error(envelope: Dict[str, Any], entry: Dict[str, Any]) -> None:
    """Appends ``entry`` to the history, keeping the newest :data:`MAX_ERROR_HISTORY`."""
    errors: List[Dict[str, Any]] = list(envelope.get("errors") or [])
    errors.append(entry)
    envelope["errors"] = errors[-MAX_ERROR_HISTORY:]


def malformed_record(record: bytes, reason: str) -> Tuple[str, bytes]:
    """A damaged record dead-lettered as found inside a fresh envelope
    (as the Rust worker does): ``(dead id, record)``."""
    leased = record_id(record)
    try:
        dead_id = str(uuid.UUID(leased)) if len(leased) == 36 else uuid7()
    except ValueError:
        dead_id = uuid7()
    envelope: Dict[str, Any] = {"id": dead_id, "type": "malformed", "attempt": 1}
    message = f"not a valid job record ({truncate_utf8(reason, 512)}); " \
              "the stored bytes are kept as the payload"
    push_error(envelope, error_entry(1, "malformed", message))
    return dead_id, encode_envelope(envelope) + b"\n" + record


@dataclass(frozen=True)
class Backoff:
    """A retry backoff policy, serialized as the Rust ``BackoffPolicy``.

    ``Backoff.exponential(15000, 2.0, 172_800_000, 0.25)`` is the default.
    """

    kind: str
    base_ms: int = 0
    factor: float = 2.0
    max_ms: int = 0
    delay_ms: int = 0
    jitter: float = 0.0

    @staticmethod
    def exponential(base_ms: int, factor: float, max_ms: int, jitter: float = 0.25) -> "Backoff":
        """``base × factor^(retry-1)``, capped at ``max_ms``, spread ± ``jitter``."""
        return Backoff("exponential", base_ms=base_ms, factor=factor, max_ms=max_ms, jitter=jitter)

    @staticmethod
    def fixed(delay_ms: int, jitter: float = 0.0) -> "Backoff":
        """The same delay every time."""
        return Backoff("fixed", delay_ms=delay_ms, jitter=jitter)

    @staticmethod
    def from_json(value: Any) -> Optional["Backoff"]:
        """The policy in an envelope's ``backoff`` member, or None if it is not one."""
        if not isinstance(value, dict):
            return None
        try:
            if value.get("kind") == "exponential":
                return Backoff.exponential(int(value["base_ms"]), float(value["factor"]),
                                           int(value["max_ms"]), float(value.get("jitter", 0.0)))
            if value.get("kind") == "fixed":
                return Backoff.fixed(int(value["delay_ms"]), float(value.get("jitter", 0.0)))
        except (KeyError, TypeError, ValueError):
            return None
        return None

    def to_json(self) -> Dict[str, Any]:
        """The envelope member (serde's ``{"kind": …}`` form)."""
        if self.kind == "fixed":
            return {"kind": "fixed", "delay_ms": self.delay_ms, "jitter": self.jitter}
        return {"kind": "exponential", "base_ms": self.base_ms, "factor": self.factor,
                "max_ms": self.max_ms, "jitter": self.jitter}

    def delay_ms_for(self, retry: int) -> int:
        """The delay before retry number ``retry`` (1 = the first), ms."""
        if self.kind == "fixed":
            nominal = float(self.delay_ms)
        else:
            factor = self.factor if self.factor >= 1.0 else 1.0
            exponent = min(max(retry - 1, 0), 1024)
            try:
                nominal = min(self.base_ms * factor ** exponent, float(self.max_ms))
            except OverflowError:
                nominal = float(self.max_ms)
        jitter = min(max(self.jitter, 0.0), 1.0)
        spread = 1.0 + jitter * (random.random() * 2.0 - 1.0) if jitter > 0 else 1.0
        return max(int(nominal * spread), 0)


DEFAULT_BACKOFF = Backoff.exponential(15_000, 2.0, 2 * 24 * 3600 * 1000, 0.25)
