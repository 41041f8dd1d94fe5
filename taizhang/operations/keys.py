"""Which key the register was written with, and stopping when that key is missing or
another one.

The register keeps the fingerprint of its key (``KeyFingerprint``; ``crypto.fingerprint``
— never the key). ``check_key()`` runs before every command that opens the register
(``taizhang.cli.setup_django``) and before the web app answers (``guard``):

- the key in force has the stored fingerprint: go on;
- the register holds no encrypted value yet (a fresh install, the demo's first run): the
  key file is made if there is none, and its fingerprint recorded — nothing can be lost;
- otherwise (a key file lost, another key file, another ``TAIZHANG_SECRET_KEY``): stop with
  ``KeyProblem`` (exit status 2) and a sentence saying what to do. A new key is never made
  then: it could not read what is there, and new records would be written under it.

A register written before fingerprints were kept gets one at its first check, if the key
in force decrypts one of its stored values; else it stops as for another key.
"""

from __future__ import annotations

import time

from django.db import IntegrityError, transaction

from taizhang import clock, config
from taizhang.errors import UserError
from taizhang.lib import crypto

__all__ = ["KeyProblem", "check_key", "guard", "has_encrypted_values", "record_fingerprint"]

_WHAT_TO_DO = (
    "put back the key file from your backup ({file}, mode 600) or set {var} to the key it "
    "was written with; or restore the whole register from a backup into an empty data "
    "folder with `taizhang restore`"
)


class KeyProblem(UserError):
    """The key is missing or is not the one the register was written with (exit 2)."""

    def __init__(self, message: str):
        super().__init__(message, status=2)


def missing_key_message() -> str:
    return _stop_message(
        f"The secret key that the register in {config.database_label()} was written with is "
        f"missing: {crypto.key_file()} does not exist and {crypto.ENV_VAR} is not set. "
        "Without it no ID or phone number can be read"
    )


def different_key_message() -> str:
    return _stop_message(
        f"The secret key in {crypto.key_source()} is not the key that the register in "
        f"{config.database_label()} was written with: its ID and phone numbers cannot be "
        "read with it"
    )


def _stop_message(problem: str) -> str:
    what_to_do = _WHAT_TO_DO.format(file=crypto.key_file(), var=crypto.ENV_VAR)
    return f"{problem}, so nothing was done. To go on, {what_to_do}."


def stored_fingerprint() -> str | None:
    from taizhang.operations.models import KeyFingerprint

    return KeyFingerprint.objects.filter(pk=1).values_list("fingerprint", flat=True).first()


def record_fingerprint(fingerprint: str) -> None:
    """Store ``fingerprint`` as the register's (the one row, made or replaced)."""
    from taizhang.operations.models import KeyFingerprint

    try:
        with transaction.atomic():
            KeyFingerprint.objects.update_or_create(
                pk=1, defaults={"fingerprint": fingerprint, "recorded_at": clock.now()}
            )
    except IntegrityError:  # another process recorded it at the same moment
        pass


def has_encrypted_values() -> bool:
    """Whether the register holds any value encrypted under its key (every person does;
    a petition may without one)."""
    from django.db.models import Q

    from taizhang.cases.models import Case
    from taizhang.register.models import Person

    return (
        Person.objects.exists()
        or Case.objects.filter(
            Q(petitioner_id_cipher__isnull=False)
            | Q(petitioner_name_cipher__isnull=False)
            | Q(petitioner_phone_cipher__isnull=False)
        ).exists()
    )


def _reads_a_stored_value() -> bool:
    """Whether the key in force reads the register's stored values: the first few decrypt,
    or at least none that is well-formed fails to (a value that is no ciphertext at all
    says nothing about the key)."""
    from taizhang.cases.models import Case
    from taizhang.register.models import Person

    blobs = [
        *Person.objects.order_by("pk").values_list("id_cipher", flat=True)[:5],
        *Case.objects.filter(petitioner_id_cipher__isnull=False)
        .order_by("pk")
        .values_list("petitioner_id_cipher", flat=True)[:5],
    ]
    for blob in blobs:
        if not crypto.is_ciphertext(blob):
            continue
        try:
            crypto.decrypt(blob)
        except crypto.DecryptionError:
            return False
        return True
    return True


def _current_fingerprint() -> str | None:
    try:
        return crypto.fingerprint()
    except crypto.KeyMissing:
        return None


def check_key() -> None:
    """Go on when the key in force is the register's; record it when the register has no
    encrypted value yet (making the key file if needed); else ``KeyProblem``."""
    from taizhang.operations import rotation

    stored = stored_fingerprint()
    current = _current_fingerprint()
    if stored is not None and current == stored:
        return
    if rotation.finish_interrupted(stored):  # a rotate-key stopped between its steps
        crypto.reset_keys()
        current = _current_fingerprint()
        if current == stored:
            return
    if not has_encrypted_values():
        if current is None:
            crypto.create_key_file()
            current = crypto.fingerprint()
        record_fingerprint(current)
        return
    if current is None:
        raise KeyProblem(missing_key_message())
    if stored is None and _reads_a_stored_value():
        record_fingerprint(current)  # a register from before fingerprints were kept
        return
    raise KeyProblem(different_key_message())


def secure_files() -> None:
    """Take group's and others' access away from the data folder, the SQLite database
    and the key files, where an older install left it."""
    folder = config.data_dir()
    config.make_private(folder)
    settings = config.database_settings()
    if settings["ENGINE"].endswith("sqlite3") and settings["NAME"] != ":memory:":
        from pathlib import Path

        database = Path(settings["NAME"])
        for path in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm"))):
            config.make_private(path)
    for name in ("secret.key", "django.key"):
        config.make_private(folder / name)


# ---------------------------------------------------------------------------
# The web app


_PAGE = """<!doctype html>
<html lang="zh-Hans"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>台帐暂停服务 · Taizhang is stopped</title></head>
<body style="font-family: sans-serif; max-width: 44em; margin: 3em auto; line-height: 1.5">
<h1>台帐暂停服务：密钥缺失或不符</h1>
<p>登记册的身份证号和电话号码是用一个密钥加密的，现在这个密钥缺失或不是原来的那一个，
所以系统停止服务，什么也没有写入。请县级管理员从备份中放回密钥文件（secret.key），
或设置 TAIZHANG_SECRET_KEY，或用 <code>taizhang restore</code> 从备份恢复登记册。</p>
<h2>Taizhang is stopped: its key is missing or not the right one</h2>
<p>{message}</p>
</body></html>
"""


class guard:
    """Wraps the WSGI app: while the key is missing or another one, every request is
    answered 503 with the sentence saying what to do, and nothing runs behind it.

    The key is checked at the first request, then again at most every ``RECHECK``
    seconds while it is right (a key rotated by ``taizhang rotate-key`` in another
    process is then taken up), and at every request while it is not (putting the key
    file back brings the app back without a restart)."""

    RECHECK = 30.0

    def __init__(self, app):
        self.app = app
        self.checked_at: float | None = None

    def __call__(self, environ, start_response):
        problem = self.problem()
        if problem is None:
            return self.app(environ, start_response)
        from html import escape

        body = _PAGE.format(message=escape(problem)).encode()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Retry-After", "300"),
            ],
        )
        return [body]

    def problem(self) -> str | None:
        """The sentence when the key is missing or another one, else None."""
        now = time.monotonic()
        if self.checked_at is not None and now - self.checked_at < self.RECHECK:
            return None
        from django.db import close_old_connections, connection

        try:
            if stored_fingerprint() != _current_fingerprint():
                crypto.reset_keys()  # a rotated key, a key file put back: read it again
            check_key()
        except KeyProblem as e:
            self.checked_at = None
            return str(e)
        except Exception:  # noqa: BLE001 - the app itself says what else is wrong
            return None
        finally:
            if connection.vendor == "sqlite":
                close_old_connections()
        self.checked_at = now
        return None
