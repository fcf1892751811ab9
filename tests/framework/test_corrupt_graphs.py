"""GraphDef, MetaGraphDef and TensorProto inputs the reader fuzzer (tools/fuzz/readers.py)
found mishandled: each imports or fails with the error TensorFlow's API documents."""
import numpy as np
import pytest

import tensorflux as tf
from tensorflux.framework import errors
from tensorflux.framework import limits
from tensorflux.framework import tensor_util

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("dims", [[10**6, 10**6], [2**62, 4], [2**31, 2**31, 4]])
def test_tensor_proto_without_values_and_a_huge_shape_is_resource_exhausted(dims):
    proto = tensor_util.make_tensor_proto(np.zeros(0, np.float32))
    del proto.tensor_shape.dim[:]
    for d in dims:
        proto.tensor_shape.dim.add(size=d)
    with limits.max_tensor_bytes(16 << 20), pytest.raises(errors.ResourceExhaustedError):
        tensor_util.MakeNdarray(proto)


def test_tensor_proto_without_values_still_means_zeros():
    proto = tensor_util.make_tensor_proto(np.zeros(0, np.float32))
    proto.tensor_shape.dim[0].size = 3
    np.testing.assert_array_equal(tensor_util.MakeNdarray(proto), np.zeros(3, np.float32))


def test_colocation_group_that_is_not_utf8_imports():
    graph = tf.Graph()
    with graph.as_default():
        tf.constant(1.0, name="a")
    graph_def = graph.as_graph_def()
    graph_def.node[0].attr["_class"].list.s.append(b"loc:@\xff\xfe")
    with tf.Graph().as_default() as imported:
        tf.import_graph_def(graph_def, name="")
    assert [op.name for op in imported.get_operations()] == ["a"]


def test_meta_graph_collection_item_that_does_not_decode_is_value_error(tmp_path):
    with tf.Graph().as_default():
        tf.Variable(1.0, name="v")
        meta = tf.train.export_meta_graph()
    items = meta.collection_def["variables"].bytes_list.value
    items[0] = b"\x0a\x02\xff\xfe"  # variable_name, not UTF-8
    with tf.Graph().as_default(), pytest.raises(ValueError, match="is not a VariableDef"):
        tf.train.import_meta_graph(meta)
