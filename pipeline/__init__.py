"""salesradar: the library behind the stream agents (no faust imports outside agents/)."""

__version__ = "0.1.0"
