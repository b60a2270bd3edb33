"""The user-facing error type of banditlab (a leaf module: it imports nothing of banditlab)."""

__all__ = ["BanditlabError"]


class BanditlabError(ValueError):
    """A one-line, user-facing error about bad input (config, kwargs, actions, data).

    Raised in Python, before any compiled code runs. The message names the
    offending parameter or field and what is allowed.
    """
