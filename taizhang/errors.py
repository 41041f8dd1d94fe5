"""Errors meant for the person at the keyboard, shared by the CLI, the web app and the domain."""


class UserError(Exception):
    """Bad input or a refused request: the message is for people; ``status`` is the exit code."""

    def __init__(self, message: str, *, status: int = 1):
        super().__init__(message)
        self.status = status
