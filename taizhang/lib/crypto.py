"""Encryption at rest of ID and phone numbers, and blind indexes to find them.

The master key comes from the environment variable ``TAIZHANG_SECRET_KEY``
(64 hex characters are taken as the 32 key bytes; any other text is hashed
with SHA-256 into a key), otherwise from the file ``secret.key`` in the data
folder, created with mode 600 on first use. Losing the key loses the
encrypted numbers: back it up apart from the database.

Two independent subkeys are derived from it with HKDF-SHA256: one for
AES-256-GCM, one for the HMAC-SHA256 blind index. A blind index lets the
database find a record by an exact ID or phone number without holding the
number in clear; a different key gives unrelated indexes.

A ciphertext is ``version (1 byte) | nonce (12 bytes) | AES-GCM output``; the
version byte is authenticated too.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import string

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from taizhang import config

__all__ = ["DecryptionError", "blind_index", "decrypt", "encrypt", "reset_keys"]

ENV_VAR = "TAIZHANG_SECRET_KEY"
KEY_FILE = "secret.key"

_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEX = frozenset(string.hexdigits)


class DecryptionError(ValueError):
    """A stored value that cannot be decrypted with this installation's key."""


def _master_key() -> bytes:
    configured = os.environ.get(ENV_VAR, "").strip()
    if not configured:
        return config.secret_file(KEY_FILE)
    if len(configured) == 64 and _HEX.issuperset(configured):
        return bytes.fromhex(configured)
    # A passphrase: stretch it to the 32 bytes AES-256 needs.
    return hashlib.sha256(configured.encode()).digest()


def _subkey(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


@functools.cache
def _keys() -> tuple[AESGCM, bytes]:
    master = _master_key()
    return (
        AESGCM(_subkey(master, b"taizhang-aes-gcm")),
        _subkey(master, b"taizhang-blind-index"),
    )


def reset_keys() -> None:
    """Forget the cached keys, so the next call reads the key again (tests change it)."""
    _keys.cache_clear()


def encrypt(text: str) -> bytes:
    """Encrypt ``text`` with AES-256-GCM under a fresh random nonce."""
    aead = _keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + aead.encrypt(nonce, text.encode(), _VERSION)


def decrypt(blob: bytes | bytearray | memoryview) -> str:
    """The text of a value made by ``encrypt``; ``DecryptionError`` if it was altered
    or was encrypted under another key."""
    data = bytes(blob)
    if len(data) < 1 + _NONCE_BYTES + _TAG_BYTES or data[:1] != _VERSION:
        raise DecryptionError("the stored value is not an encrypted value of this system")
    try:
        plain = _keys()[0].decrypt(data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :], _VERSION)
    except InvalidTag:
        raise DecryptionError(
            "the stored value cannot be decrypted: it was altered, "
            "or the secret key is not the one it was encrypted with"
        ) from None
    return plain.decode()


def blind_index(text: str, domain: str = "id") -> str:
    """A keyed fingerprint of ``text`` (32 lowercase hex characters) to look it up by.

    ``domain`` keeps indexes of different kinds of value apart (``"id"``,
    ``"phone"``): the same digits give different indexes in each.
    """
    message = f"{domain}\0{text}".encode()
    return hmac.digest(_keys()[1], message, "sha256")[:16].hex()
