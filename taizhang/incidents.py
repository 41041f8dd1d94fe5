"""What happens to an error nobody foresaw: its details go to a file, the person gets a
sentence.

A command or a page that fails unexpectedly writes the traceback and what was being done
into ``<data folder>/logs/error-<reference>.log`` and shows only the reference and that
file's name — never a traceback. The reference (time and a random tail) is what a user
quotes to whoever runs the installation.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import traceback
from pathlib import Path

from taizhang import clock


def log_folder() -> Path:
    """``logs/`` in the data folder, or the system's temporary folder when that cannot be
    written (a read-only or missing data folder must not hide the error itself)."""
    from taizhang import config

    for folder in (config.data_dir() / "logs", Path(tempfile.gettempdir()) / "taizhang-logs"):
        if folder.parent.exists() and not folder.parent.is_dir():
            continue
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if os.access(folder, os.W_OK):
                return folder
        except OSError:
            continue
    return Path(tempfile.gettempdir())


def record(error: BaseException, *, doing: str) -> tuple[str, Path]:
    """Write ``error``'s traceback and ``doing`` (the command line, or the request) to a
    new log file; returns the reference and the file."""
    try:
        moment = clock.local_now()
    except Exception:  # noqa: BLE001 - a bad time zone setting must not hide the error
        moment = clock.now()
    reference = f"{moment:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
    path = log_folder() / f"error-{reference}.log"
    text = (
        f"reference: {reference}\n"
        f"time: {moment.isoformat(timespec='seconds')}\n"
        f"doing: {doing}\n\n"
        + "".join(traceback.format_exception(type(error), error, error.__traceback__))
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    return reference, path
