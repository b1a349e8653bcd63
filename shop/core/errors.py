"""Domain errors. Services raise them; views turn them into form messages or JSON errors."""


class DomainError(Exception):
    """A rule of the business was broken. `code` is stable (API clients match on it); `message` is for people."""

    code = "invalid"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status = 404


class NotAllowed(DomainError):
    code = "forbidden"
    status = 403


class Conflict(DomainError):
    code = "conflict"
    status = 409


class StaleRead(Conflict):
    """The row changed between this request's read and its compare-and-set (another request won the race). The
    views run the action once more on fresh data, so the loser gets the answer a fresh page would get: done, if it
    still applies, or the refusal its new state calls for."""

    code = "changed_meanwhile"
