"""The version of fastprep (the package exports it as ``fastprep.__version__``)."""

__version__ = "0.2.0"
