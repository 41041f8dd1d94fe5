"""Taizhang (台帐): the register, ledgers and numbers of a county's population service network."""

__version__ = "0.1.0"
