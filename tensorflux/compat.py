"""`tf.compat`: conversions between bytes and text, and the number-type tuples of TF 0.9.

2016 scripts call `tf.compat.as_str` on words read from files (word2vec_basic) and
`tf.compat.as_bytes` on file names; the tuples let `isinstance` checks accept numpy scalars.
"""
import numbers

import numpy as np

__all__ = ["as_bytes", "as_text", "as_str", "as_str_any", "integral_types", "real_types",
           "complex_types", "bytes_or_text_types"]


def as_bytes(bytes_or_text, encoding="utf-8"):
    """`bytes_or_text` as bytes: text encoded with `encoding`, bytes unchanged.

    Raises:
      TypeError: for anything that is neither bytes nor text.
    """
    if isinstance(bytes_or_text, (bytearray, bytes)):
        return bytes(bytes_or_text)
    if isinstance(bytes_or_text, str):
        return bytes_or_text.encode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


def as_text(bytes_or_text, encoding="utf-8"):
    """`bytes_or_text` as text: bytes decoded with `encoding`, text unchanged.

    Raises:
      TypeError: for anything that is neither bytes nor text.
    """
    if isinstance(bytes_or_text, str):
        return bytes_or_text
    if isinstance(bytes_or_text, (bytearray, bytes)):
        return bytes(bytes_or_text).decode(encoding)
    raise TypeError(f"Expected binary or unicode string, got {bytes_or_text!r}")


# Python 3's `str` is text, so as_str is as_text (TF 0.9 picked by Python version).
as_str = as_text


def as_str_any(value):
    """`str(value)`, except that bytes are decoded rather than shown as b'...'."""
    if isinstance(value, (bytes, bytearray)):
        return as_str(value)
    return str(value)


integral_types = (numbers.Integral, np.integer)
real_types = (numbers.Real, np.integer, np.floating)
complex_types = (numbers.Complex, np.number)
bytes_or_text_types = (bytes, str)
