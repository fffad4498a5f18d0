"""What can go wrong in recognition, in the domain's words: no HTTP here (rthdr.api.errors maps each
code to a status; the CLI prints the message)."""

from __future__ import annotations


class InputError(ValueError):
    """Input the system cannot use. `code` names the problem for programs (the API's error code),
    `message` tells a person what to do instead."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class ModelError(RuntimeError):
    """The model file is missing or unusable."""
