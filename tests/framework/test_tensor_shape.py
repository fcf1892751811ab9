import numpy as np
import pytest

from tensorflux.framework import protos
from tensorflux.framework import tensor_shape as ts
from tensorflux.framework.tensor_shape import Dimension, TensorShape

# ----- Dimension -------------------------------------------------------------------------------


def test_dimension_values_and_text():
    assert Dimension(3).value == 3
    assert Dimension(None).value is None
    assert Dimension(np.int64(4)).value == 4
    assert Dimension(Dimension(5)).value == 5
    assert Dimension(6.0).value == 6
    assert repr(Dimension(3)) == "Dimension(3)" and repr(Dimension(None)) == "Dimension(None)"
    assert str(Dimension(3)) == "3" and str(Dimension(None)) == "?"
    assert int(Dimension(7)) == 7
    assert [0, 1, 2, 3][Dimension(2)] == 2  # __index__
    with pytest.raises(TypeError):
        int(Dimension(None))


def test_dimension_rejects():
    with pytest.raises(ValueError, match="must be >= 0"):
        Dimension(-1)
    with pytest.raises(TypeError):
        Dimension(2.5)
    with pytest.raises(TypeError):
        Dimension("3")


def test_dimension_equality():
    assert (Dimension(3) == Dimension(3)) is True
    assert (Dimension(3) == 3) is True
    assert (Dimension(3) == 4) is False
    assert (Dimension(3) != 4) is True
    assert (Dimension(None) == 3) is None
    assert (Dimension(3) == Dimension(None)) is None
    assert (Dimension(None) != Dimension(None)) is None
    assert (Dimension(3) == "x") is False  # unconvertible falls back to identity
    assert hash(Dimension(3)) == hash(Dimension(3))


def test_dimension_comparisons():
    assert Dimension(2) < 3 and Dimension(3) <= 3 and Dimension(4) > 3 and Dimension(3) >= 3
    assert (Dimension(None) < 3) is None
    assert (Dimension(2) >= Dimension(None)) is None


@pytest.mark.parametrize(
    "expr,expected",
    [
        (lambda: Dimension(3) + 4, 7), (lambda: 4 + Dimension(3), 7),
        (lambda: Dimension(5) - 2, 3), (lambda: 7 - Dimension(2), 5),
        (lambda: Dimension(3) * Dimension(4), 12), (lambda: 2 * Dimension(4), 8),
        (lambda: Dimension(7) // 2, 3), (lambda: 7 // Dimension(2), 3),
        (lambda: Dimension(7) % 3, 1), (lambda: 7 % Dimension(4), 3),
        (lambda: Dimension(None) + 1, None), (lambda: 3 * Dimension(None), None),
        (lambda: Dimension(4) // Dimension(None), None),
    ],
)
def test_dimension_arithmetic(expr, expected):
    result = expr()
    assert isinstance(result, Dimension)
    assert result.value == expected


def test_dimension_arithmetic_errors():
    with pytest.raises(ValueError):
        Dimension(2) - 3  # negative result
    with pytest.raises(TypeError, match="//"):
        Dimension(4) / 2
    with pytest.raises(TypeError):
        Dimension(4) + "a"


def test_dimension_compatibility_and_merge():
    assert Dimension(3).is_compatible_with(3)
    assert Dimension(None).is_compatible_with(3)
    assert Dimension(3).is_compatible_with(Dimension(None))
    assert not Dimension(3).is_compatible_with(4)
    Dimension(3).assert_is_compatible_with(None)
    with pytest.raises(ValueError, match="Dimensions 3 and 4 are not compatible"):
        Dimension(3).assert_is_compatible_with(4)
    assert Dimension(None).merge_with(5).value == 5
    assert Dimension(5).merge_with(None).value == 5
    assert Dimension(None).merge_with(None).value is None
    with pytest.raises(ValueError, match="Dimensions 3 and 4 are not compatible"):
        Dimension(3).merge_with(4)


def test_dimension_helpers():
    d = Dimension(3)
    assert ts.as_dimension(d) is d
    assert ts.as_dimension(4).value == 4
    assert ts.dimension_value(Dimension(5)) == 5
    assert ts.dimension_value(Dimension(None)) is None
    assert ts.dimension_value(6) == 6


# ----- TensorShape construction ----------------------------------------------------------------


def test_construction_forms():
    assert TensorShape(None).dims is None
    assert TensorShape([2, None]).as_list() == [2, None]
    assert TensorShape((Dimension(2), 3)).as_list() == [2, 3]
    assert TensorShape(3).as_list() == [3]
    assert TensorShape(Dimension(4)).as_list() == [4]
    assert TensorShape(np.array([1, 2])).as_list() == [1, 2]
    assert TensorShape(TensorShape([1, None])).as_list() == [1, None]
    assert TensorShape(TensorShape(None)).ndims is None
    assert all(isinstance(d, Dimension) for d in TensorShape([1, None]).dims)
    with pytest.raises(TypeError):
        TensorShape("12")
    with pytest.raises(ValueError):
        TensorShape([1, -2])


def test_construction_from_proto_and_back():
    proto = protos.TensorShapeProto(
        dim=[protos.TensorShapeProto.Dim(size=2), protos.TensorShapeProto.Dim(size=-1)]
    )
    shape = TensorShape(proto)
    assert shape.as_list() == [2, None]
    assert shape.as_proto() == proto
    unknown = TensorShape(protos.TensorShapeProto(unknown_rank=True))
    assert unknown.ndims is None
    assert unknown.as_proto().unknown_rank
    assert TensorShape([]).as_proto() == protos.TensorShapeProto()
    assert not TensorShape([]).as_proto().unknown_rank


def test_rank_len_iter_bool():
    s = TensorShape([2, None, 4])
    assert s.ndims == 3 and s.rank == 3 and len(s) == 3
    assert [d.value for d in s] == [2, None, 4]
    assert bool(s) and bool(TensorShape([]))
    assert not bool(TensorShape(None))
    u = TensorShape(None)
    assert u.ndims is None and u.rank is None
    with pytest.raises(ValueError):
        len(u)
    with pytest.raises(ValueError):
        iter(u)


def test_getitem_known():
    s = TensorShape([2, None, 4])
    assert isinstance(s[0], Dimension) and s[0].value == 2
    assert s[-1].value == 4
    assert isinstance(s[1:], TensorShape) and s[1:].as_list() == [None, 4]
    assert s[::2].as_list() == [2, 4]
    with pytest.raises(IndexError):
        s[3]


def test_getitem_unknown_rank():
    u = TensorShape(None)
    assert u[5].value is None
    assert u[1:].ndims is None
    assert u[1:3].as_list() == [None, None]
    assert u[-2:].ndims is None
    assert u[:4].as_list() == [None] * 4


def test_fully_defined_and_num_elements():
    assert TensorShape([2, 3]).is_fully_defined()
    assert TensorShape([]).is_fully_defined()
    assert not TensorShape([2, None]).is_fully_defined()
    assert not TensorShape(None).is_fully_defined()
    TensorShape([2, 3]).assert_is_fully_defined()
    with pytest.raises(ValueError, match=r"Shape \(2, \?\) is not fully defined"):
        TensorShape([2, None]).assert_is_fully_defined()
    assert TensorShape([2, 3, 4]).num_elements() == 24
    assert TensorShape([]).num_elements() == 1
    assert TensorShape([2, 0]).num_elements() == 0
    assert TensorShape([2, None]).num_elements() is None
    assert TensorShape(None).num_elements() is None
    with pytest.raises(ValueError, match="unknown TensorShape"):
        TensorShape(None).as_list()


# ----- combining and compatibility -------------------------------------------------------------


def test_merge_with():
    assert TensorShape([2, None]).merge_with([None, 3]).as_list() == [2, 3]
    assert TensorShape(None).merge_with([1, 2]).as_list() == [1, 2]
    assert TensorShape([1, 2]).merge_with(TensorShape(None)).as_list() == [1, 2]
    with pytest.raises(ValueError, match=r"Shapes \(2, 3\) and \(2, 4\) are not compatible"):
        TensorShape([2, 3]).merge_with([2, 4])
    with pytest.raises(ValueError, match="are not compatible"):
        TensorShape([2, 3]).merge_with([2, 3, 1])


def test_concatenate():
    assert TensorShape([1, 2]).concatenate([3]).as_list() == [1, 2, 3]
    assert TensorShape([1]).concatenate(TensorShape([])).as_list() == [1]
    assert TensorShape(None).concatenate([3]).ndims is None
    assert TensorShape([1]).concatenate(None).ndims is None
    assert (TensorShape([1]) + TensorShape([2])).as_list() == [1, 2]


def test_is_compatible_with():
    assert TensorShape([2, None]).is_compatible_with([2, 5])
    assert TensorShape(None).is_compatible_with([2, 5])
    assert TensorShape([2, 5]).is_compatible_with(TensorShape(None))
    assert not TensorShape([2, 5]).is_compatible_with([2, 6])
    assert not TensorShape([2, 5]).is_compatible_with([2, 5, 1])
    TensorShape([None]).assert_is_compatible_with([7])
    with pytest.raises(ValueError, match=r"Shapes \(2, 5\) and \(2, 6\) are incompatible"):
        TensorShape([2, 5]).assert_is_compatible_with([2, 6])


def test_rank_assertions():
    s = TensorShape([1, 2])
    s.assert_has_rank(2)
    TensorShape(None).assert_has_rank(5)
    with pytest.raises(ValueError, match=r"Shape \(1, 2\) must have rank 3"):
        s.assert_has_rank(3)
    s.assert_same_rank([3, 4])
    s.assert_same_rank(None)
    with pytest.raises(ValueError, match="must have the same rank"):
        s.assert_same_rank([1])


def test_with_rank_family():
    assert TensorShape(None).with_rank(2).as_list() == [None, None]
    s = TensorShape([1, 2])
    assert s.with_rank(2) == s
    with pytest.raises(ValueError, match="must have rank 3"):
        s.with_rank(3)
    assert s.with_rank_at_least(1) is s and s.with_rank_at_least(2) is s
    with pytest.raises(ValueError, match="must have rank at least 3"):
        s.with_rank_at_least(3)
    assert s.with_rank_at_most(2) is s
    with pytest.raises(ValueError, match="must have rank at most 1"):
        s.with_rank_at_most(1)
    u = TensorShape(None)
    assert u.with_rank_at_least(4) is u and u.with_rank_at_most(0) is u


def test_most_specific_compatible_shape():
    a = TensorShape([2, 3, None])
    assert a.most_specific_compatible_shape([2, 4, None]).as_list() == [2, None, None]
    assert a.most_specific_compatible_shape([2, 3, 5]).as_list() == [2, 3, None]
    assert a.most_specific_compatible_shape([2, 3]).ndims is None
    assert a.most_specific_compatible_shape(None).ndims is None


# ----- equality, hashing, text -----------------------------------------------------------------


def test_equality_and_hash():
    assert TensorShape([1, 2]) == TensorShape([1, 2])
    assert TensorShape([1, 2]) == [1, 2]
    assert TensorShape([1, 2]) != [1, 3]
    assert TensorShape([1, 2]) != [1, 2, 3]
    assert TensorShape(None) == TensorShape(None)
    assert TensorShape(None) != TensorShape([])
    assert TensorShape([]) != TensorShape(None)
    assert TensorShape([None]) == TensorShape([None])
    assert TensorShape([1]) != "abc"
    assert hash(TensorShape([1, None])) == hash(TensorShape([1, None]))
    shapes = {TensorShape([1, 2]), TensorShape((1, 2)), TensorShape(None), ts.unknown_shape()}
    assert len(shapes) == 2


def test_repr_and_str():
    assert repr(TensorShape([2, None])) == "TensorShape([Dimension(2), Dimension(None)])"
    assert repr(TensorShape(None)) == "TensorShape(None)"
    assert str(TensorShape([2, None])) == "(2, ?)"
    assert str(TensorShape(None)) == "<unknown>"
    assert str(TensorShape([])) == "()"
    assert str(TensorShape([3])) == "(3,)"


def test_module_functions():
    assert ts.unknown_shape().ndims is None
    assert ts.unknown_shape(ndims=3).as_list() == [None] * 3
    assert ts.unknown_shape(rank=2).as_list() == [None] * 2
    assert ts.scalar().as_list() == []
    assert ts.vector(5).as_list() == [5]
    assert ts.vector(None).as_list() == [None]
    assert ts.matrix(2, 3).as_list() == [2, 3]
    s = TensorShape([1])
    assert ts.as_shape(s) is s
    assert ts.as_shape([4, 5]).as_list() == [4, 5]
    assert ts.as_shape(None).ndims is None


def test_dims_is_a_copy():
    s = TensorShape([1, 2])
    s.dims.append(Dimension(3))
    assert s.as_list() == [1, 2]
