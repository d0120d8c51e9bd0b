"""Errors of the pretrained backbone: all user-facing (``ToonmatchError``), one line each."""

from core.errors import ToonmatchError


class BackboneUnavailableError(ToonmatchError):
    """The pretrained backbone cannot be fetched, verified, converted or loaded."""


class TfjsGraphError(BackboneUnavailableError):
    """A TF.js graph model is malformed or uses an op the converter does not support."""
