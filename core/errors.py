"""User-facing errors, raised by every layer (catalog, ml, db, bot) and subclassed where a layer needs its own;
the front doors (the bot's error handler, the scripts' main) turn them into messages, in one place each."""


class ToonmatchError(Exception):
    """Base of every error whose message is fit to show a user as it is."""


class CatalogError(ToonmatchError):
    """A catalogue folder is missing, malformed or inconsistent."""


class EmptyCatalogError(CatalogError):
    """A catalogue holds no usable titles."""


class BadImageError(ToonmatchError):
    """An input is not an image we can read (corrupt, truncated, too big, unsupported)."""


class ImageTooLargeError(BadImageError):
    """An image exceeds the byte or pixel limits (e.g. a decompression bomb)."""


class UnknownTitleError(ToonmatchError):
    """No title matches the given id or text; ``suggestions`` holds the closest matches."""

    def __init__(self, message: str, suggestions: list[str] | None = None):
        super().__init__(message)
        self.suggestions = suggestions or []


class RemovedTitleError(UnknownTitleError):
    """The title was in the catalogue, but its source no longer lists it: never answered or posted again."""


class AmbiguousTitleError(UnknownTitleError):
    """Several titles fit the text equally well; ``suggestions`` lists them."""


class RunFolderError(ToonmatchError):
    """A run folder is missing, incomplete or from an incompatible version."""
