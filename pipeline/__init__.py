"""sossut: a raw phone clip and one viewer comment in, a finished TikTok reply video out."""

__version__ = "0.1.0"
