"""The cryptographic primitives of docs/report-format.md section 2.3, all libsodium (PyNaCl).

Contract:
- blake2b256(*parts): plain BLAKE2b, 32-byte output, no key, over the concatenated parts.
- sign(tag, payload, secret64) / verify(tag, payload, sig, public32): Ed25519 over
  tag || 0x00 || payload; verify returns False (never raises) on any bad size or signature.
- seal(key, x25519_pub) -> 80 bytes (crypto_box_seal); seal_open(...) -> bytes | None,
  refusing any input that is not 80 bytes.
- aead_encrypt / aead_decrypt: XChaCha20-Poly1305-IETF; decrypt returns None on failure.
- random_bytes(n): the system RNG; counting_random(): the KATs' counting RNG (section 10.2).
- Key checks of trust-model 6.1 step 8: is_usable_verify_key, is_usable_x25519_key.
"""
from __future__ import annotations

import struct
from typing import Callable

import nacl.bindings as _s
import nacl.exceptions
import nacl.utils

from tearline.encoding import ByteWriter

RandomFill = Callable[[int], bytes]

SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32
CONTENT_KEY_BYTES = 32
NONCE_BYTES = 24
AEAD_TAG_BYTES = 16
WRAPPED_KEY_BYTES = 80


def blake2b256(*parts: bytes) -> bytes:
    return _s.crypto_generichash_blake2b_salt_personal(b"".join(bytes(p) for p in parts), digest_size=32)


def blake2b(data: bytes, outlen: int) -> bytes:
    return _s.crypto_generichash_blake2b_salt_personal(bytes(data), digest_size=outlen)


def signature_input(tag: str, payload: bytes) -> bytes:
    return ByteWriter().tag(tag).raw(payload).bytes()


def sign(tag: str, payload: bytes, secret64: bytes) -> bytes:
    signed = _s.crypto_sign(signature_input(tag, payload), bytes(secret64))
    return signed[:SIGNATURE_BYTES]


def verify(tag: str, payload: bytes, signature: bytes, public32: bytes) -> bool:
    if len(signature) != SIGNATURE_BYTES or len(public32) != PUBLIC_KEY_BYTES:
        return False
    try:
        _s.crypto_sign_open(bytes(signature) + signature_input(tag, payload), bytes(public32))
        return True
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.CryptoError, ValueError, TypeError):
        return False


def sign_seed_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """(public32, secret64) from a 32-byte seed (crypto_sign_seed_keypair)."""
    return _s.crypto_sign_seed_keypair(bytes(seed))


def box_seed_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """(public32, secret32) from a 32-byte seed (crypto_box_seed_keypair)."""
    return _s.crypto_box_seed_keypair(bytes(seed))


def x25519_public(secret32: bytes) -> bytes:
    return _s.crypto_scalarmult_base(bytes(secret32))


def ed25519_public(secret64: bytes) -> bytes:
    return _s.crypto_sign_ed25519_sk_to_pk(bytes(secret64))


def seal(message: bytes, x25519_public_key: bytes) -> bytes:
    return _s.crypto_box_seal(bytes(message), bytes(x25519_public_key))


def seal_open(sealed: bytes, public32: bytes, secret32: bytes) -> bytes | None:
    if len(sealed) != WRAPPED_KEY_BYTES:
        return None
    try:
        return _s.crypto_box_seal_open(bytes(sealed), bytes(public32), bytes(secret32))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return None


def aead_encrypt(key: bytes, nonce: bytes, ad: bytes, plaintext: bytes) -> bytes:
    return _s.crypto_aead_xchacha20poly1305_ietf_encrypt(bytes(plaintext), bytes(ad), bytes(nonce), bytes(key))


def aead_decrypt(key: bytes, nonce: bytes, ad: bytes, ciphertext: bytes) -> bytes | None:
    if len(nonce) != NONCE_BYTES or len(ciphertext) < AEAD_TAG_BYTES or len(key) != CONTENT_KEY_BYTES:
        return None
    try:
        return _s.crypto_aead_xchacha20poly1305_ietf_decrypt(bytes(ciphertext), bytes(ad), bytes(nonce), bytes(key))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return None


def ct_equal(a: bytes, b: bytes) -> bool:
    return len(a) == len(b) and _s.sodium_memcmp(bytes(a), bytes(b))


def random_bytes(n: int) -> bytes:
    return nacl.utils.random(n)


def counting_random(start: int = 0) -> RandomFill:
    """The KAT RNG (report-format 10.2): block c = BLAKE2b-256("tearline test rng" || u64le(c));
    each request of n bytes takes ceil(n/32) fresh blocks, truncated to n."""
    counter = [start]

    def fill(n: int) -> bytes:
        out = b""
        for _ in range((n + 31) // 32):
            out += blake2b256(b"tearline test rng", struct.pack("<Q", counter[0]))
            counter[0] += 1
        return out[:n]

    return fill


def test_seed(name: str) -> bytes:
    """seed(name) = BLAKE2b-256("tearline test seed " || name) (report-format 10.2, 15.5)."""
    return blake2b256(b"tearline test seed " + name.encode("ascii"))


test_seed.__test__ = False  # type: ignore[attr-defined]  (not a pytest test)


def is_usable_verify_key(key: bytes) -> bool:
    """A canonical Ed25519 point of prime order (crypto_core_ed25519_is_valid_point)."""
    return len(key) == 32 and bool(_s.crypto_core_ed25519_is_valid_point(bytes(key)))


_PROBE_SCALAR = bytes([8] + [0] * 30 + [0x40])


def is_usable_x25519_key(key: bytes) -> bool:
    """Not of low order on X25519: a shared secret with a cofactor-multiple scalar is not zero."""
    if len(key) != 32:
        return False
    try:
        _s.crypto_scalarmult(_PROBE_SCALAR, bytes(key))
        return True
    except (nacl.exceptions.RuntimeError, nacl.exceptions.CryptoError, RuntimeError):
        return False


# --- Merkle trees (RFC 9162 2.1 shape; report-format 14.2, 15.2) -------------

def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def merkle_root(leaves: list[bytes], inner: Callable[[bytes, bytes], bytes]) -> bytes:
    """MTH: a root of one leaf is the leaf; otherwise inner(MTH(D[0:k]), MTH(D[k:n]))."""
    if not leaves:
        raise ValueError("no leaf")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return inner(merkle_root(leaves[:k], inner), merkle_root(leaves[k:], inner))


def merkle_path(leaves: list[bytes], index: int, inner: Callable[[bytes, bytes], bytes]) -> list[bytes]:
    """RFC 9162 2.1.3.1: the sibling hashes of leaf `index`, from the bottom up."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ValueError("index out of range")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return merkle_path(leaves[:k], index, inner) + [merkle_root(leaves[k:], inner)]
    return merkle_path(leaves[k:], index - k, inner) + [merkle_root(leaves[:k], inner)]


def root_from_path(leaf: bytes, index: int, count: int, path: list[bytes],
                   inner: Callable[[bytes, bytes], bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2 with fn = index, sn = count - 1; None when the path's length does not fit."""
    if not 0 <= index < count:
        return None
    fn, sn, r = index, count - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = inner(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = inner(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None
