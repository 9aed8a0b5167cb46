"""Key files (docs/trust-model.md section 8).

Contract: a key file is magic (8 bytes) || raw secrets. It is read only when it is a
regular file whose mode grants nothing to group or others, of exactly the kind's size and
with the kind's magic; anything else raises TearlineError KEY_FILE naming the file.
- NodeKeys.load(path): TLNODE1\\n, Ed25519 secret (64) || X25519 sealing secret (32) ||
  Curve25519 transport secret (32); public halves derived.
- BrokerKeys.load(path): TLBRKR1\\n, transport secret (32) || Ed25519 audit secret (64).
- AuthorityKey.load(path, pinned=None): TLAUTH1\\n, Ed25519 secret (64); when `pinned` is
  given, the public half must equal it (KEY_FILE otherwise).
- load_broker_public(path): the 40 Z85 characters of directory/broker.pub -> 32 bytes.
- write_key_file(path, magic, payload): the same format, mode 0600, atomically (for tests).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from tearline import crypto
from tearline.errors import TearlineError

NODE_MAGIC = b"TLNODE1\n"
BROKER_MAGIC = b"TLBRKR1\n"
AUTHORITY_MAGIC = b"TLAUTH1\n"


def _read_key_file(path: str | os.PathLike, magic: bytes, payload_len: int, kind: str) -> bytes:
    p = os.fspath(path)
    # Opened first, then the open file is checked (fstat): the bytes read are the ones whose
    # type and mode were judged. O_NONBLOCK: a FIFO put in its place cannot hang the open.
    try:
        fd = os.open(p, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as e:
        raise TearlineError("KEY_FILE", f"{kind} key file {p}: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise TearlineError("KEY_FILE", f"{kind} key file {p} is not a regular file")
        mode = stat.S_IMODE(st.st_mode)
        if mode & 0o077:
            raise TearlineError("KEY_FILE", f"{kind} key file {p} has mode {mode:04o}: group or others may "
                                            "access it (chmod 600)")
        data = os.read(fd, len(magic) + payload_len + 1)
    except OSError as e:
        raise TearlineError("KEY_FILE", f"{kind} key file {p}: {e.strerror}") from None
    finally:
        os.close(fd)
    if len(data) != len(magic) + payload_len:
        raise TearlineError("KEY_FILE", f"{kind} key file {p} is {len(data)} bytes, not {len(magic) + payload_len}")
    if data[:len(magic)] != magic:
        raise TearlineError("KEY_FILE", f"{kind} key file {p} does not start with the magic {magic!r}")
    return data[len(magic):]


def write_key_file(path: str | os.PathLike, magic: bytes, payload: bytes) -> None:
    p = os.fspath(path)
    tmp = p + ".tmp"
    try:
        os.unlink(tmp)  # left by a crash
    except FileNotFoundError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, magic + payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, p)


@dataclass(frozen=True, repr=False)
class NodeKeys:
    signing_secret: bytes     # 64, libsodium form: seed || public
    signing_public: bytes     # 32
    sealing_secret: bytes     # 32
    sealing_public: bytes     # 32
    transport_secret: bytes   # 32
    transport_public: bytes   # 32

    def __repr__(self) -> str:
        return f"NodeKeys(signing_public={self.signing_public.hex()}, sealing_public={self.sealing_public.hex()})"

    @staticmethod
    def from_secrets(signing_secret: bytes, sealing_secret: bytes, transport_secret: bytes) -> "NodeKeys":
        return NodeKeys(bytes(signing_secret), crypto.ed25519_public(signing_secret),
                        bytes(sealing_secret), crypto.x25519_public(sealing_secret),
                        bytes(transport_secret), crypto.x25519_public(transport_secret))

    @staticmethod
    def load(path: str | os.PathLike) -> "NodeKeys":
        raw = _read_key_file(path, NODE_MAGIC, 128, "node")
        return NodeKeys.from_secrets(raw[:64], raw[64:96], raw[96:128])

    @staticmethod
    def generate() -> "NodeKeys":
        _, sk = crypto.sign_seed_keypair(crypto.random_bytes(32))
        return NodeKeys.from_secrets(sk, crypto.random_bytes(32), crypto.random_bytes(32))

    def save(self, path: str | os.PathLike) -> None:
        write_key_file(path, NODE_MAGIC, self.signing_secret + self.sealing_secret + self.transport_secret)


@dataclass(frozen=True, repr=False)
class BrokerKeys:
    transport_secret: bytes   # 32
    transport_public: bytes   # 32
    signing_secret: bytes     # 64 (the audit / receipt key)
    signing_public: bytes     # 32

    def __repr__(self) -> str:
        return f"BrokerKeys(transport_public={self.transport_public.hex()}, signing_public={self.signing_public.hex()})"

    @staticmethod
    def load(path: str | os.PathLike) -> "BrokerKeys":
        raw = _read_key_file(path, BROKER_MAGIC, 96, "broker")
        return BrokerKeys(raw[:32], crypto.x25519_public(raw[:32]), raw[32:96], crypto.ed25519_public(raw[32:96]))


@dataclass(frozen=True, repr=False)
class AuthorityKey:
    signing_secret: bytes     # 64
    signing_public: bytes     # 32

    def __repr__(self) -> str:
        return f"AuthorityKey(signing_public={self.signing_public.hex()})"

    @staticmethod
    def load(path: str | os.PathLike, pinned: bytes | None = None) -> "AuthorityKey":
        raw = _read_key_file(path, AUTHORITY_MAGIC, 64, "authority")
        key = AuthorityKey(raw, crypto.ed25519_public(raw))
        if pinned is not None and key.signing_public != bytes(pinned):
            raise TearlineError("KEY_FILE", f"authority key file {os.fspath(path)} does not match the pinned key")
        return key


def load_broker_public(path: str | os.PathLike) -> bytes:
    """directory/broker.pub: 40 Z85 characters and a newline (ZeroMQ RFC 32) -> 32 bytes."""
    p = os.fspath(path)
    try:
        with open(p, "rb") as f:
            text = f.read(4096).strip()
    except OSError as e:
        raise TearlineError("IO_ERROR", f"{p}: {e.strerror}") from None
    if len(text) != 40:
        raise TearlineError("INVALID_FIELD", f"{p} does not hold 40 Z85 characters")
    try:
        from zmq.utils import z85
        return z85.decode(text)
    except Exception as e:  # noqa: BLE001 - any decoding failure is a bad file
        raise TearlineError("INVALID_FIELD", f"{p} is not Z85: {e}") from None
