"""The one exception type for mistakes a user can fix.

Everything the UI, the API and the CLI show to a person comes from a ``UserError``:
its message says what is wrong, where (column, row, line) and how to fix it. Any
other exception is a bug and is reported as such, never as a raw traceback in the UI.
"""


class UserError(ValueError):
    """A problem with the user's input, explained in the message."""
