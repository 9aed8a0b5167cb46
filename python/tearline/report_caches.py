"""Content-key epochs (docs/report-format.md 14.6) and the verifier's caches (14.4): KeyEpochs
reuses a section's content key and wraps per label and exact recipients; RootCache keeps batch
statements whose signature verified; UnwrapCache keeps unwrapped content keys."""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Sequence

from tearline import crypto
from tearline.crypto import RandomFill
from tearline.encoding import ByteWriter
from tearline.report_format import EPOCH_MAX_MS, EPOCH_MAX_SECTIONS, Recipient

# --- content-key epochs (14.6) and caches ---------------------------------------------

@dataclass
class _Epoch:
    recipients: tuple[Recipient, ...]
    start_ms: int
    last_ms: int
    count: int
    key: bytearray = field(repr=False)
    wraps: list[tuple[str, bytes]] = field(repr=False)


class KeyEpochs:
    """One content key and its wraps per label bytes and exact recipient set (14.6)."""

    def __init__(self, max_age_ms: int = EPOCH_MAX_MS, max_sections: int = EPOCH_MAX_SECTIONS) -> None:
        self.max_age_ms = max_age_ms
        self.max_sections = max_sections
        self._epochs: dict[bytes, _Epoch] = {}
        self.epochs_started = 0

    def take(self, label: bytes, recipients: Sequence[Recipient], created_at_ms: int,
             rng: RandomFill) -> tuple[bytes, list[tuple[str, bytes]], bool]:
        """(content key, wraps, new epoch?) for one section; draws 32 bytes only for a new epoch."""
        rec = tuple(recipients)
        e = self._epochs.get(label)
        if (e is None or e.recipients != rec or created_at_ms < e.last_ms
                or created_at_ms - e.start_ms >= self.max_age_ms or e.count >= self.max_sections):
            if e is not None:
                _wipe(e.key)
            key = bytearray(rng(crypto.CONTENT_KEY_BYTES))
            wraps = [(nid, crypto.seal(bytes(key), pk)) for nid, pk in rec]
            e = _Epoch(rec, created_at_ms, created_at_ms, 0, key, wraps)
            self._epochs[label] = e
            self.epochs_started += 1
            new = True
        else:
            new = False
        e.count += 1
        e.last_ms = created_at_ms
        return bytes(e.key), list(e.wraps), new

    def clear(self) -> None:
        for e in self._epochs.values():
            _wipe(e.key)
        self._epochs.clear()


def _wipe(b: bytearray) -> None:
    for i in range(len(b)):
        b[i] = 0


class RootCache:
    """Verified batch statements, per originator, LRU-bounded (14.4). An entry is the
    BLAKE2b-256 of (tag, verify key, statement, signature); the only way in is a verify that
    succeeded, so a root signed by another node or key or with other bytes never matches."""

    def __init__(self, per_originator: int = 64, originators: int = 1024) -> None:
        self.per_originator = per_originator
        self.max_originators = originators
        self._map: OrderedDict[str, OrderedDict[bytes, None]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.verifies = 0

    @staticmethod
    def _key(tag: str, public: bytes, statement: bytes, signature: bytes) -> bytes:
        return crypto.blake2b256(ByteWriter().tag(tag).field(public).field(statement).field(signature).bytes())

    def verify_statement(self, originator: str, tag: str, statement: bytes, signature: bytes, public: bytes) -> bool:
        k = self._key(tag, public, statement, signature)
        with self._lock:
            entries = self._map.get(originator)
            if entries is not None and k in entries:
                entries.move_to_end(k)
                self._map.move_to_end(originator)
                self.hits += 1
                return True
        self.verifies += 1
        if not crypto.verify(tag, statement, signature, public):
            return False
        with self._lock:
            entries = self._map.setdefault(originator, OrderedDict())
            self._map.move_to_end(originator)
            entries[k] = None
            while len(entries) > self.per_originator:
                entries.popitem(last=False)
            while len(self._map) > self.max_originators:
                self._map.popitem(last=False)
        return True

    def size(self, originator: str | None = None) -> int:
        with self._lock:
            if originator is not None:
                return len(self._map.get(originator, ()))
            return sum(len(v) for v in self._map.values())


class UnwrapCache:
    """Unwrapped content keys, LRU-bounded, keyed by BLAKE2b-256(sealing public key || wrap)."""

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._map: OrderedDict[bytes, bytearray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0

    @staticmethod
    def key_of(sealing_public: bytes, sealed_key: bytes) -> bytes:
        return crypto.blake2b256(sealing_public, sealed_key)

    def get(self, sealing_public: bytes, sealed_key: bytes) -> bytes | None:
        k = self.key_of(sealing_public, sealed_key)
        with self._lock:
            v = self._map.get(k)
            if v is None:
                return None
            self._map.move_to_end(k)
            self.hits += 1
            return bytes(v)

    def put(self, sealing_public: bytes, sealed_key: bytes, content_key: bytes) -> None:
        k = self.key_of(sealing_public, sealed_key)
        with self._lock:
            self._map[k] = bytearray(content_key)
            self._map.move_to_end(k)
            while len(self._map) > self.capacity:
                _, old = self._map.popitem(last=False)
                _wipe(old)

    def __len__(self) -> int:
        return len(self._map)
