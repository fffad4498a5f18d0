"""What can go wrong in recognition, in the domain's words: no HTTP here (rthdr.api.errors maps each
code to a status; the CLI prints the message)."""

from __future__ import annotations


class InputError(ValueError):
    """Input the system cannot use. `code` names the problem for programs (the API's error code),
    `message` tells a person what to do instead."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str]]:
        """Pickled with both fields: the API's recognizer process raises it across processes."""
        return type(self), (self.code, self.message)


class ModelError(RuntimeError):
    """The model file is missing or unusable."""
