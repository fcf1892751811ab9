"""tf.saved_model.utils: TensorInfo protos for a signature's inputs and outputs."""
from tensorflux.framework import ops
from tensorflux.framework import protos
from tensorflux.ops.parsing_ops import SparseTensor


def build_tensor_info(tensor):
    """The TensorInfo (name, dtype, shape) of a Tensor or SparseTensor."""
    info = protos.TensorInfo(dtype=tensor.dtype.as_datatype_enum)
    if isinstance(tensor, SparseTensor):
        info.coo_sparse.values_tensor_name = tensor.values.name
        info.coo_sparse.indices_tensor_name = tensor.indices.name
        info.coo_sparse.dense_shape_tensor_name = tensor.dense_shape.name
    else:
        info.name = tensor.name
    info.tensor_shape.CopyFrom(tensor.get_shape().as_proto())
    return info


def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The Tensor (or SparseTensor) of `graph` that `tensor_info` names."""
    graph = graph or ops.get_default_graph()

    def _get(name):
        if import_scope:
            name = import_scope + "/" + name
        return graph.get_tensor_by_name(name)

    encoding = tensor_info.WhichOneof("encoding")
    if encoding == "name":
        return _get(tensor_info.name)
    if encoding == "coo_sparse":
        sparse = tensor_info.coo_sparse
        return SparseTensor(_get(sparse.indices_tensor_name),
                                _get(sparse.values_tensor_name),
                                _get(sparse.dense_shape_tensor_name))
    raise ValueError("Invalid TensorInfo.encoding: %s" % encoding)
