"""Encryption at rest of ID and phone numbers, and blind indexes to find them.

The master key comes from the environment variable ``TAIZHANG_SECRET_KEY``
(64 hex characters are taken as the 32 key bytes; any other text is hashed
with SHA-256 into a key), otherwise from the file ``secret.key`` in the data
folder. Losing the key loses the encrypted numbers: back it up apart from the
database (``taizhang backup`` holds it, encrypted under a passphrase).

This module never makes a key by itself: a missing key file is ``KeyMissing``.
``create_key_file()`` makes one, and only ``taizhang.operations.keys`` calls it —
when the register holds no encrypted value yet, so that a lost key is never
silently replaced by a new one that cannot read what is there.

``fingerprint()`` tells keys apart without revealing them: an HMAC of a constant
under a subkey of its own, stored with the register (``taizhang.operations``).

Two independent subkeys are derived from it with HKDF-SHA256: one for
AES-256-GCM, one for the HMAC-SHA256 blind index. A blind index lets the
database find a record by an exact ID or phone number without holding the
number in clear; a different key gives unrelated indexes.

A ciphertext is ``version (1 byte) | nonce (12 bytes) | AES-GCM output``; the
version byte is authenticated too.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import string
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from taizhang import config
from taizhang.errors import UserError

__all__ = [
    "DecryptionError",
    "KeyMissing",
    "blind_index",
    "create_key_file",
    "decrypt",
    "encrypt",
    "fingerprint",
    "fingerprint_of",
    "is_ciphertext",
    "key_file",
    "key_source",
    "master_key_from",
    "reset_keys",
    "using_key",
]

ENV_VAR = "TAIZHANG_SECRET_KEY"
KEY_FILE = "secret.key"

_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_HEX = frozenset(string.hexdigits)
_FINGERPRINT_INFO = b"taizhang-key-fingerprint"
_FINGERPRINT_TEXT = b"the register of taizhang was written with this key"


class DecryptionError(ValueError):
    """A stored value that cannot be decrypted with this installation's key."""


class KeyMissing(UserError):
    """There is no key: no ``TAIZHANG_SECRET_KEY`` and no ``secret.key`` (exit status 2)."""

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or (
                f"there is no secret key: {key_file()} does not exist and {ENV_VAR} is not "
                "set; put the key file back from your backup, or set "
                f"{ENV_VAR}, or restore the register with `taizhang restore`"
            ),
            status=2,
        )


def key_file() -> Path:
    """Where the key file is (whether or not it exists)."""
    return config.data_dir() / KEY_FILE


def key_source() -> str:
    """Where the key comes from, for messages: the variable, or the key file's path."""
    return ENV_VAR if os.environ.get(ENV_VAR, "").strip() else str(key_file())


def master_key_from(text: str) -> bytes:
    """The 32 key bytes of a key as configured: 64 hex characters are the key itself; any
    other text is a passphrase, stretched with SHA-256."""
    text = text.strip()
    if len(text) == 64 and _HEX.issuperset(text):
        return bytes.fromhex(text)
    return hashlib.sha256(text.encode()).digest()


def _master_key() -> bytes:
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return master_key_from(configured)
    path = key_file()
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise KeyMissing() from None
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        key = b""
    if len(key) != 32:
        raise UserError(
            f"{path} is not a key file (it should hold 64 hex characters): put the key file "
            "back from your backup, or restore the register with `taizhang restore`",
            status=2,
        )
    return key


def create_key_file() -> Path:
    """Make a new random key file (mode 600); an existing one is kept. For an installation
    whose register holds no encrypted value yet (``taizhang.operations.keys``)."""
    path = key_file()
    config.ensure_data_dir()
    with contextlib.suppress(FileExistsError):
        config.write_private(path, secrets.token_hex(32) + "\n", exclusive=True)
    reset_keys()
    return path


def _subkey(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


# Master keys put in force by ``using_key`` (innermost last), over the installation's.
_using: list[bytes] = []


def _keys() -> tuple[AESGCM, bytes, str]:
    """The encryption key, the blind-index key and the fingerprint in force."""
    if _using:
        return _keys_of(_using[-1])
    return _installation_keys()


@functools.cache
def _installation_keys() -> tuple[AESGCM, bytes, str]:
    return _keys_of(_master_key())


@functools.lru_cache(maxsize=4)
def _keys_of(master: bytes) -> tuple[AESGCM, bytes, str]:
    return (
        AESGCM(_subkey(master, b"taizhang-aes-gcm")),
        _subkey(master, b"taizhang-blind-index"),
        fingerprint_of(master),
    )


@contextlib.contextmanager
def using_key(master: bytes):
    """Within the block, ``encrypt``, ``decrypt``, ``blind_index``, the ``*_bytes``
    functions and ``fingerprint`` work under ``master`` instead of the installation's key
    (``taizhang rotate-key`` reads under the old key and writes under the new)."""
    _using.append(master)
    try:
        yield
    finally:
        _using.pop()


def fingerprint_of(master: bytes) -> str:
    """The fingerprint of a master key: 32 hex characters that are the same for the same
    key and tell nothing about it."""
    return hmac.digest(_subkey(master, _FINGERPRINT_INFO), _FINGERPRINT_TEXT, "sha256")[:16].hex()


def fingerprint() -> str:
    """The fingerprint of the key in force (``KeyMissing`` when there is none)."""
    return _keys()[2]


def reset_keys() -> None:
    """Forget the cached keys, so the next call reads the key again (tests change it)."""
    _installation_keys.cache_clear()


def encrypt(text: str) -> bytes:
    """Encrypt ``text`` with AES-256-GCM under a fresh random nonce."""
    aead = _keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + aead.encrypt(nonce, text.encode(), _VERSION)


def is_ciphertext(blob: bytes | bytearray | memoryview) -> bool:
    """Whether ``blob`` has the form of a value made by ``encrypt`` (under whatever key)."""
    data = bytes(blob)
    return len(data) >= 1 + _NONCE_BYTES + _TAG_BYTES and data[:1] == _VERSION


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


# ---------------------------------------------------------------------------
# Bytes (files kept at rest: the ledger archive)

__all__ += ["decrypt_bytes", "encrypt_bytes"]

_BYTES_VERSION = b"\x02"


def encrypt_bytes(data: bytes, context: bytes = b"") -> bytes:
    """Encrypt ``data`` (a whole file) with AES-256-GCM under the installation's key and a
    fresh random nonce: ``version 2 (1 byte) | nonce (12 bytes) | AES-GCM output``. The
    version and ``context`` (what the bytes are, e.g. ``b"ledger-archive"``) are
    authenticated: the same ``context`` is needed to decrypt."""
    aead = _keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    return _BYTES_VERSION + nonce + aead.encrypt(nonce, bytes(data), _BYTES_VERSION + context)


def decrypt_bytes(blob: bytes | bytearray | memoryview, context: bytes = b"") -> bytes:
    """The bytes ``encrypt_bytes`` encrypted; ``DecryptionError`` if they were altered,
    were encrypted under another key or with another ``context``."""
    data = bytes(blob)
    if len(data) < 1 + _NONCE_BYTES + _TAG_BYTES or data[:1] != _BYTES_VERSION:
        raise DecryptionError("the stored file is not an encrypted file of this system")
    try:
        return _keys()[0].decrypt(
            data[1 : 1 + _NONCE_BYTES], data[1 + _NONCE_BYTES :], _BYTES_VERSION + context
        )
    except InvalidTag:
        raise DecryptionError(
            "the stored file cannot be decrypted: it was altered, "
            "or the secret key is not the one it was encrypted with"
        ) from None
