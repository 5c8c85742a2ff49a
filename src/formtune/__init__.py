"""formtune: fine-tune small language models until they reliably speak a machine format."""

from formtune.hookspecs import hookimpl

__all__ = ["hookimpl"]
__version__ = "0.1.0"
