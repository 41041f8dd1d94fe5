"""The backup file: one stream, compressed and encrypted under a passphrase, read and
written in chunks so that a database of any size needs only a chunk's worth of memory.

Layout (all integers big-endian)::

    header, 64 bytes:
      magic         8   b"TZBACKUP"
      version       1   1
      kdf           1   1 = scrypt
      log2 n        1   scrypt cost (17: n = 131072)
      r, p          2   scrypt block size and parallelism (8, 1)
      compression   1   1 = zlib
      reserved      6   zero
      salt         16   random
      nonce prefix  8   7 random bytes and a zero
      chunk size    4   plaintext bytes per chunk (1 MiB)
      check        16   HMAC-SHA256(check key, the 48 bytes before)[:16]
    chunks, each:
      length        4   of the ciphertext that follows (tag included)
      ciphertext        AES-256-GCM(content key, nonce, compressed bytes, aad = header)

The passphrase gives a 32-byte key through scrypt (salt and cost from the header); HKDF
splits it into the content key and the check key. The check tells a wrong passphrase
(or a damaged header) from damaged contents at once. The nonce of chunk i is the prefix,
i (4 bytes) and a last-chunk flag (0 or 1): chunks cannot be reordered, dropped or
repeated, and a file cut short lacks its flagged last chunk (the STREAM construction of
Hoang, Reyhanitabar, Rogaway and Vizár). Every chunk authenticates the whole header.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import zlib
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from taizhang.errors import UserError

MAGIC = b"TZBACKUP"
VERSION = 1
HEADER = struct.Struct(">8sBBBBBB6s16s8sI16s")
assert HEADER.size == 64
CHUNK = 1 << 20
LOG2_N, R, P = 17, 8, 1
MIN_PASSPHRASE = 10
_TAG = 16


class BackupRefused(UserError):
    """A backup file that cannot be read: a wrong passphrase, damage, or not a backup."""


def read_passphrase(path) -> bytes:
    """The passphrase: the first line of the file ``path`` (its line end left off)."""
    try:
        with open(path, encoding="utf-8") as f:
            line = f.readline()
    except FileNotFoundError:
        raise UserError(f"{path}: no such passphrase file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: cannot read the passphrase file ({e})") from None
    passphrase = line.rstrip("\r\n")
    if len(passphrase) < MIN_PASSPHRASE:
        what = "is empty" if not passphrase else f"has only {len(passphrase)} characters"
        raise UserError(
            f"{path}: the passphrase (the file's first line) {what}; give one of at least "
            f"{MIN_PASSPHRASE} characters — a few words nobody could guess"
        )
    return passphrase.encode()


def _keys(passphrase: bytes, salt: bytes, log2_n: int, r: int, p: int) -> tuple[AESGCM, bytes]:
    if not (10 <= log2_n <= 22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise BackupRefused("the backup's header is damaged (impossible key settings)")
    root = Scrypt(salt=salt, length=32, n=1 << log2_n, r=r, p=p).derive(passphrase)

    def sub(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)

    return AESGCM(sub(b"taizhang-backup-content")), sub(b"taizhang-backup-check")


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 1 << 32:
        raise UserError("the backup is too large (more than 4 billion chunks)")
    return prefix + struct.pack(">IB", index, 1 if last else 0)


class EncryptingWriter:
    """A file-like object: what is written to it is compressed, cut into chunks and
    encrypted onto ``out``. ``close()`` writes the last chunk (it must be called)."""

    def __init__(self, out: BinaryIO, passphrase: bytes):
        self.out = out
        salt, self.prefix = os.urandom(16), os.urandom(7)
        aead, check_key = _keys(passphrase, salt, LOG2_N, R, P)
        self.aead = aead
        body = HEADER.pack(
            MAGIC, VERSION, 1, LOG2_N, R, P, 1, bytes(6), salt, self.prefix + b"\0", CHUNK, b""
        )[:48]
        self.header = body + hmac.digest(check_key, body, hashlib.sha256)[:16]
        out.write(self.header)
        self.compressor = zlib.compressobj(3)
        self.pending = bytearray()
        self.index = 0
        self.closed = False

    def write(self, data) -> int:
        self.pending += self.compressor.compress(bytes(data))
        while len(self.pending) > CHUNK:  # keep one back: the last chunk is flagged
            self._emit(bytes(self.pending[:CHUNK]), last=False)
            del self.pending[:CHUNK]
        return len(data)

    def _emit(self, plain: bytes, *, last: bool) -> None:
        sealed = self.aead.encrypt(_nonce(self.prefix, self.index, last), plain, self.header)
        self.out.write(struct.pack(">I", len(sealed)) + sealed)
        self.index += 1

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.closed:
            return
        self.pending += self.compressor.flush()
        while len(self.pending) > CHUNK:
            self._emit(bytes(self.pending[:CHUNK]), last=False)
            del self.pending[:CHUNK]
        self._emit(bytes(self.pending), last=True)
        self.closed = True


class DecryptingReader:
    """A file-like object giving back what an ``EncryptingWriter`` was given, chunk by
    chunk; ``BackupRefused`` (exit 1) for a wrong passphrase, damage or a file cut short.
    ``read()`` to the end has authenticated every chunk and the end of the file."""

    def __init__(self, source: BinaryIO, passphrase: bytes, name: str):
        self.source, self.name = source, name
        header = source.read(HEADER.size)
        if len(header) < HEADER.size or not header.startswith(MAGIC):
            raise BackupRefused(f"{name} is not a Taizhang backup (it does not begin as one)")
        magic, version, kdf, log2_n, r, p, compression, _, salt, prefix, chunk, check = (
            HEADER.unpack(header)
        )
        if version != VERSION or kdf != 1 or compression != 1:
            raise BackupRefused(
                f"{name} is a backup of another format (version {version}): restore it with "
                "the Taizhang version that made it, or a newer one"
            )
        self.aead, check_key = _keys(passphrase, salt, log2_n, r, p)
        if not hmac.compare_digest(hmac.digest(check_key, header[:48], hashlib.sha256)[:16], check):
            raise BackupRefused(
                f"{name}: the passphrase is not the one this backup was made with (or the "
                "file's header is damaged); nothing was restored"
            )
        self.header, self.prefix, self.chunk = header, prefix[:7], chunk
        self.decompressor = zlib.decompressobj()
        self.buffer = bytearray()
        self.index = 0
        self.done = False

    def _damaged(self, why: str) -> BackupRefused:
        return BackupRefused(f"{self.name}: the backup is damaged ({why}); nothing was restored")

    def _next_chunk(self) -> None:
        length = self.source.read(4)
        if len(length) < 4:
            raise BackupRefused(
                f"{self.name}: the backup is incomplete — it ends before its last part (a "
                "copy cut short?); nothing was restored"
            )
        (size,) = struct.unpack(">I", length)
        if size < _TAG or size > self.chunk + _TAG:
            raise self._damaged(f"part {self.index + 1} has an impossible length")
        sealed = self.source.read(size)
        if len(sealed) < size:
            raise BackupRefused(
                f"{self.name}: the backup is incomplete — it ends inside part "
                f"{self.index + 1} (a copy cut short?); nothing was restored"
            )
        plain = None
        for last in (False, True):
            try:
                plain = self.aead.decrypt(
                    _nonce(self.prefix, self.index, last), sealed, self.header
                )
            except InvalidTag:
                continue
            self.done = last
            break
        if plain is None:
            raise self._damaged(f"part {self.index + 1} does not authenticate")
        self.index += 1
        try:
            self.buffer += self.decompressor.decompress(plain)
            if self.done:
                self.buffer += self.decompressor.flush()
        except zlib.error:
            raise self._damaged(f"part {self.index} does not decompress") from None
        if self.done:
            if self.source.read(1):
                raise self._damaged("there are bytes after its last part")
            if not self.decompressor.eof:
                raise self._damaged("its contents end early")

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self.buffer) < n) and not self.done:
            self._next_chunk()
        if n < 0 or n >= len(self.buffer):
            out = bytes(self.buffer)
            self.buffer.clear()
            return out
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out

    def drain(self) -> int:
        """Read to the end, keeping nothing: authenticates the whole file. Bytes read."""
        total = 0
        while True:
            block = self.read(CHUNK)
            if not block:
                return total
            total += len(block)
