"""Static shapes, possibly partial: `Dimension` and `TensorShape` with TensorFlow 1.x semantics.

A dimension is a non-negative int or unknown (None); a shape is a list of dimensions or, when
even the rank is unknown, None. Shape functions merge what they know and let unknowns propagate.
"""
import numbers

from tensorflux.framework import protos


class Dimension:
    """One dimension of a TensorShape: a non-negative int, or None when unknown."""

    __slots__ = ("_value",)

    def __init__(self, value):
        """Creates a Dimension.

        Raises:
          TypeError: if `value` is neither None nor an integer (an integral float is accepted).
          ValueError: if `value` is negative.
        """
        self._value = _checked_dim_value(value)

    @property
    def value(self):
        """The int size, or None if unknown."""
        return self._value

    def __repr__(self):
        return f"Dimension({self._value!r})"

    def __str__(self):
        return "?" if self._value is None else str(self._value)

    def __int__(self):
        # TF 0.9-1.x return the value, None included: Keras 1.x's int_shape calls
        # `d.__int__()` for each dimension to get (None, 28, 28, 1); int(d) of an unknown
        # dimension still raises TypeError (Python refuses a non-int from __int__).
        return self._value

    def __index__(self):
        if self._value is None:
            raise TypeError("Cannot convert an unknown Dimension to an int.")
        return self._value

    def __hash__(self):
        return hash(self._value)

    # ----- compatibility --------------------------------------------------------------------
    def is_compatible_with(self, other):
        """True if the two dimensions could be equal (either is unknown, or they are equal)."""
        other = as_dimension(other)
        return self._value is None or other.value is None or self._value == other.value

    def assert_is_compatible_with(self, other):
        """Raises ValueError if `other` is not compatible with this dimension."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Dimensions {self} and {as_dimension(other)} are not compatible")

    def merge_with(self, other):
        """The dimension that is as known as both: Dimension(None).merge_with(3) is Dimension(3).

        Raises:
          ValueError: if the two dimensions are known and differ.
        """
        other = as_dimension(other)
        self.assert_is_compatible_with(other)
        return Dimension(self._value if self._value is not None else other.value)

    # ----- comparison: None when either side is unknown -------------------------------------
    def _compare(self, other, op):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other.value is None:
            return None
        return op(self._value, other.value)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    # ----- arithmetic: an unknown operand gives an unknown result ---------------------------
    def _arith(self, other, op, reflected=False):
        try:
            other = as_dimension(other)
        except (TypeError, ValueError):
            return NotImplemented
        if self._value is None or other.value is None:
            return Dimension(None)
        a, b = (other.value, self._value) if reflected else (self._value, other.value)
        return Dimension(op(a, b))

    def __add__(self, other):
        return self._arith(other, lambda a, b: a + b)

    def __radd__(self, other):
        return self._arith(other, lambda a, b: a + b, reflected=True)

    def __sub__(self, other):
        return self._arith(other, lambda a, b: a - b)

    def __rsub__(self, other):
        return self._arith(other, lambda a, b: a - b, reflected=True)

    def __mul__(self, other):
        return self._arith(other, lambda a, b: a * b)

    def __rmul__(self, other):
        return self._arith(other, lambda a, b: a * b, reflected=True)

    def __floordiv__(self, other):
        return self._arith(other, lambda a, b: a // b)

    def __rfloordiv__(self, other):
        return self._arith(other, lambda a, b: a // b, reflected=True)

    def __mod__(self, other):
        return self._arith(other, lambda a, b: a % b)

    def __rmod__(self, other):
        return self._arith(other, lambda a, b: a % b, reflected=True)

    def __truediv__(self, other):
        raise TypeError(
            f"unsupported operand type(s) for /: 'Dimension' and '{type(other).__name__}', "
            "please use // instead"
        )

    def __rtruediv__(self, other):
        raise TypeError(
            f"unsupported operand type(s) for /: '{type(other).__name__}' and 'Dimension', "
            "please use // instead"
        )


def _checked_dim_value(value):
    if value is None:
        return None
    if isinstance(value, Dimension):
        return value.value
    if isinstance(value, numbers.Integral):
        result = int(value)
    elif isinstance(value, numbers.Real) and float(value).is_integer():
        result = int(value)  # TF 1.x accepts 3.0 (Python 3 scripts compute sizes with /)
    else:
        raise TypeError(f"Dimension value must be an integer or None, got {value!r}.")
    if result < 0:
        raise ValueError(f"Dimension {result} must be >= 0")
    return result


def as_dimension(value):
    """Returns `value` if it is a Dimension, else `Dimension(value)`."""
    return value if isinstance(value, Dimension) else Dimension(value)


def dimension_value(dimension):
    """The int (or None) value of a Dimension; other values are returned unchanged."""
    return dimension.value if isinstance(dimension, Dimension) else dimension


class TensorShape:
    """The static shape of a Tensor: a list of Dimensions, or None when the rank is unknown."""

    __slots__ = ("_dims",)

    def __init__(self, dims):
        """Creates a TensorShape.

        Args:
          dims: None (unknown rank), an iterable of ints / None / Dimensions, a TensorShape, a
            TensorShapeProto, or a single int or Dimension (read as a rank-1 shape).

        Raises:
          TypeError: for a string or a dimension that is not an integer.
          ValueError: for a negative dimension.
        """
        self._dims = _dims_from(dims)

    # ----- rank and dims --------------------------------------------------------------------
    @property
    def dims(self):
        """A list of Dimension, or None if the rank is unknown."""
        return None if self._dims is None else list(self._dims)

    @property
    def ndims(self):
        """The rank as an int, or None if unknown."""
        return None if self._dims is None else len(self._dims)

    @property
    def rank(self):
        """Same as `ndims`."""
        return self.ndims

    def __len__(self):
        if self._dims is None:
            raise ValueError("Cannot take the length of Shape with unknown rank.")
        return len(self._dims)

    def __bool__(self):
        return self._dims is not None

    def __iter__(self):
        if self._dims is None:
            raise ValueError("Cannot iterate over a shape with unknown rank.")
        return iter(self._dims)

    def __getitem__(self, key):
        """An int key gives a Dimension; a slice gives a TensorShape.

        On a shape of unknown rank, an int gives Dimension(None) and a slice gives a shape of
        unknown rank, or of rank stop - start when both bounds are known and non-negative.
        """
        if self._dims is not None:
            if isinstance(key, slice):
                return TensorShape(self._dims[key])
            return self._dims[key]
        if not isinstance(key, slice):
            return Dimension(None)
        if key.step is not None:
            raise ValueError("Steps are not yet handled on a shape of unknown rank.")
        start = 0 if key.start is None else key.start
        if key.stop is None or start < 0 or key.stop < 0:
            return unknown_shape()
        return unknown_shape(ndims=max(key.stop - start, 0))

    # ----- definedness ----------------------------------------------------------------------
    def is_fully_defined(self):
        """True if the rank and every dimension are known."""
        return self._dims is not None and all(d.value is not None for d in self._dims)

    def assert_is_fully_defined(self):
        """Raises ValueError unless the shape is fully defined."""
        if not self.is_fully_defined():
            raise ValueError(f"Shape {self} is not fully defined")

    def as_list(self):
        """The dims as a list of ints and Nones.

        Raises:
          ValueError: if the rank is unknown.
        """
        if self._dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return [d.value for d in self._dims]

    def num_elements(self):
        """The number of elements (an int) if fully defined, else None."""
        if not self.is_fully_defined():
            return None
        count = 1
        for d in self._dims:
            count *= d.value
        return count

    # ----- combining ------------------------------------------------------------------------
    def merge_with(self, other):
        """The shape that combines what both shapes know.

        Raises:
          ValueError: if the ranks or any known dimensions differ.
        """
        other = as_shape(other)
        if self._dims is None:
            return other
        if other.ndims is None:
            return self
        try:
            self.assert_same_rank(other)
            return TensorShape([d.merge_with(o) for d, o in zip(self._dims, other)])
        except ValueError:
            raise ValueError(f"Shapes {self} and {other} are not compatible") from None

    def concatenate(self, other):
        """This shape's dims followed by `other`'s; unknown rank if either rank is unknown."""
        other = as_shape(other)
        if self._dims is None or other.ndims is None:
            return unknown_shape()
        return TensorShape(self._dims + other.dims)

    def __add__(self, other):
        return self.concatenate(other)

    def __radd__(self, other):
        return as_shape(other).concatenate(self)

    def most_specific_compatible_shape(self, other):
        """The most specific shape compatible with both: dims that differ become unknown."""
        other = as_shape(other)
        if self._dims is None or other.ndims is None or self.ndims != other.ndims:
            return unknown_shape()
        return TensorShape([d.value if d.value == o.value else None for d, o in zip(self, other)])

    # ----- compatibility and rank assertions ------------------------------------------------
    def is_compatible_with(self, other):
        """True if the two shapes could describe the same tensor."""
        other = as_shape(other)
        if self._dims is None or other.ndims is None:
            return True
        if self.ndims != other.ndims:
            return False
        return all(d.is_compatible_with(o) for d, o in zip(self._dims, other))

    def assert_is_compatible_with(self, other):
        """Raises ValueError if `other` is not compatible with this shape."""
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def assert_same_rank(self, other):
        """Raises ValueError if both ranks are known and differ."""
        other = as_shape(other)
        if self.ndims is not None and other.ndims is not None and self.ndims != other.ndims:
            raise ValueError(f"Shapes {self} and {other} must have the same rank")

    def assert_has_rank(self, rank):
        """Raises ValueError if the rank is known and is not `rank`."""
        if self.ndims not in (None, rank):
            raise ValueError(f"Shape {self} must have rank {rank}")

    def with_rank(self, rank):
        """This shape, with the rank set to `rank` if it was unknown.

        Raises:
          ValueError: if the rank is known and is not `rank`.
        """
        try:
            return self.merge_with(unknown_shape(ndims=rank))
        except ValueError:
            raise ValueError(f"Shape {self} must have rank {rank}") from None

    def with_rank_at_least(self, rank):
        """This shape. Raises ValueError if its rank is known and less than `rank`."""
        if self.ndims is not None and self.ndims < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank):
        """This shape. Raises ValueError if its rank is known and greater than `rank`."""
        if self.ndims is not None and self.ndims > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    # ----- conversion -----------------------------------------------------------------------
    def as_proto(self):
        """A TensorShapeProto: unknown dims have size -1; unknown rank sets unknown_rank."""
        if self._dims is None:
            return protos.TensorShapeProto(unknown_rank=True)
        return protos.TensorShapeProto(
            dim=[
                protos.TensorShapeProto.Dim(size=-1 if d.value is None else d.value)
                for d in self._dims
            ]
        )

    def _values(self):
        return None if self._dims is None else tuple(d.value for d in self._dims)

    def __eq__(self, other):
        # Dims compare by value, so TensorShape([None]) == TensorShape([None]), consistent with
        # __hash__; shapes of unknown rank are equal only to each other.
        try:
            other = as_shape(other)
        except (TypeError, ValueError):
            return NotImplemented
        return self._values() == other._values()

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        if self._dims is None:
            return "TensorShape(None)"
        return f"TensorShape({self._dims!r})"

    def __str__(self):
        if self._dims is None:
            return "<unknown>"
        if len(self._dims) == 1:
            return f"({self._dims[0]},)"
        return "(" + ", ".join(str(d) for d in self._dims) + ")"


def _dims_from(dims):
    if dims is None:
        return None
    if isinstance(dims, TensorShape):
        return dims.dims
    if isinstance(dims, (str, bytes)):
        raise TypeError(f"A string has ambiguous TensorShape, please wrap in a list: {dims!r}")
    if isinstance(dims, protos.TensorShapeProto):
        if dims.unknown_rank:
            return None
        return [Dimension(None if d.size == -1 else d.size) for d in dims.dim]
    try:
        dims_iter = iter(dims)
    except TypeError:
        return [as_dimension(dims)]  # a single dimension: a rank-1 shape
    return [as_dimension(d) for d in dims_iter]


def unknown_shape(ndims=None, rank=None):
    """A shape of unknown rank, or of rank `ndims` (alias `rank`) with every dim unknown."""
    if ndims is None:
        ndims = rank
    if ndims is None:
        return TensorShape(None)
    return TensorShape([Dimension(None)] * ndims)


def scalar():
    """The shape of a scalar: TensorShape([])."""
    return TensorShape([])


def vector(length):
    """The shape of a vector: TensorShape([length])."""
    return TensorShape([length])


def matrix(rows, cols):
    """The shape of a matrix: TensorShape([rows, cols])."""
    return TensorShape([rows, cols])


def as_shape(shape):
    """Returns `shape` if it is a TensorShape, else `TensorShape(shape)`."""
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)
