"""tensorflux: TensorFlow's 2016 dataflow system. `import tensorflux as tf`.

This module only re-exports: each public name is defined once, in the module that owns it
(see docs/ARCHITECTURE.md). Op modules list their public names in `__all__`.
"""
# Framework: dtypes, shapes, graphs, errors.
from tensorflux.framework.dtypes import *  # noqa: F401,F403
from tensorflux.framework.dtypes import DType, as_dtype  # noqa: F401
from tensorflux.framework.tensor_shape import (  # noqa: F401
    Dimension, TensorShape, dimension_value)
from tensorflux.framework.ops import (  # noqa: F401
    Graph, Operation, Tensor, IndexedSlices, GraphKeys, get_default_graph, reset_default_graph,
    get_default_session, name_scope, op_scope, control_dependencies, device, colocate_with,
    convert_to_tensor, convert_n_to_tensor, convert_to_tensor_or_indexed_slices,
    get_collection, get_collection_ref, add_to_collection, add_to_collections,
    register_tensor_conversion_function)
from tensorflux.framework.device import DeviceSpec  # noqa: F401
from tensorflux.framework.registry import (  # noqa: F401
    RegisterGradient, NotDifferentiable, NoGradient, RegisterShape)
from tensorflux.framework import errors  # noqa: F401
from tensorflux.framework.errors import (  # noqa: F401  (TF 0.9's top-level aliases)
    OpError, CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError,
    NotFoundError, AlreadyExistsError, PermissionDeniedError, UnauthenticatedError,
    ResourceExhaustedError, FailedPreconditionError, AbortedError, OutOfRangeError,
    UnimplementedError, InternalError, UnavailableError, DataLossError)
from tensorflux.framework.protos import (  # noqa: F401
    ConfigProto, GPUOptions, GraphOptions, OptimizerOptions, RunOptions, RunMetadata, GraphDef,
    NodeDef, AttrValue, Summary, Event, SessionLog, HistogramProto, MetaGraphDef)

# Ops.
from tensorflux.ops.constant_op import *  # noqa: F401,F403
from tensorflux.ops.array_ops import *  # noqa: F401,F403
from tensorflux.ops.math_ops import *  # noqa: F401,F403
from tensorflux.ops.special_math_ops import *  # noqa: F401,F403
from tensorflux.ops.reduction_ops import *  # noqa: F401,F403
from tensorflux.ops.linalg_ops import *  # noqa: F401,F403
from tensorflux.ops.segment_ops import *  # noqa: F401,F403
from tensorflux.ops.state_ops import *  # noqa: F401,F403
from tensorflux.ops.control_flow_ops import *  # noqa: F401,F403
from tensorflux.ops.tensor_array_ops import *  # noqa: F401,F403
from tensorflux.ops.functional_ops import *  # noqa: F401,F403
from tensorflux.ops.variables import *  # noqa: F401,F403
from tensorflux.ops.nn_ops import *  # noqa: F401,F403
from tensorflux.ops.random_ops import *  # noqa: F401,F403
from tensorflux.ops.clip_ops import *  # noqa: F401,F403
from tensorflux.ops.init_ops import *  # noqa: F401,F403
from tensorflux.ops.variable_scope import *  # noqa: F401,F403
from tensorflux.ops.partitioned_variables import *  # noqa: F401,F403
from tensorflux.ops.script_ops import *  # noqa: F401,F403
from tensorflux.ops.summary_ops import *  # noqa: F401,F403
from tensorflux.ops.data_flow_ops import *  # noqa: F401,F403
from tensorflux.ops.reader_ops import *  # noqa: F401,F403
from tensorflux.ops.parsing_ops import *  # noqa: F401,F403
from tensorflux.ops import io_ops  # noqa: F401  (registers SaveV2, RestoreV2, ...)
from tensorflux.ops import io_v1_ops  # noqa: F401  (registers Save, SaveSlices, RestoreSlice, ...)
from tensorflux.ops import image_ops  # noqa: F401  (registers the image ops)
from tensorflux.ops import conv_ops, embedding_ops, candidate_sampling_ops, nn_impl  # noqa: F401
from tensorflux.ops.sendrecv_ops import *  # noqa: F401,F403  (registers _Send, _Recv)
from tensorflux.autodiff.gradients import gradients, AggregationMethod  # noqa: F401
from tensorflux.framework.importer import import_graph_def  # noqa: F401
from tensorflux.framework import graph_util  # noqa: F401

# Runtime.
from tensorflux.runtime.session import Session, InteractiveSession  # noqa: F401
import tensorflux.distributed  # noqa: F401,E402 (registers grpc:// session targets)

# Namespaces.
from tensorflux import nn  # noqa: F401
from tensorflux import train  # noqa: F401
from tensorflux import summary  # noqa: F401
from tensorflux import image  # noqa: F401
from tensorflux import contrib  # noqa: F401
from tensorflux import compat  # noqa: F401
from tensorflux.lib.io import tf_record as python_io  # noqa: F401
from tensorflux.platform import app  # noqa: F401
from tensorflux.platform import flags  # noqa: F401
from tensorflux.platform import gfile  # noqa: F401
from tensorflux.platform import tf_logging as logging  # noqa: F401
from tensorflux.platform import test  # noqa: F401

__version__ = "0.1.0"
from tensorflux.ops.accumulator_ops import *  # noqa: F401,F403,E402
from tensorflux.ops.complex_ops import conj  # noqa: F401,E402
from tensorflux import saved_model  # noqa: F401,E402
from tensorflux.ops.string_ops import *  # noqa: F401,F403,E402
from tensorflux.ops.complex_ops import complex, real, imag, angle  # noqa: F401,E402,A004
from tensorflux.ops.spectral_ops import *  # noqa: F401,F403,E402
from tensorflux.ops.matrix_diag_ops import *  # noqa: F401,F403,E402
from tensorflux.ops.linalg_solve_ops import *  # noqa: F401,F403,E402
from tensorflux.ops.numeric_ops import *  # noqa: F401,F403,E402
from tensorflux.ops import pool_argmax_ops, linalg_solve_ops  # noqa: F401,E402
from tensorflux.ops.identity_reader_ops import IdentityReader  # noqa: F401,E402
from tensorflux.ops.sequence_parsing_ops import *  # noqa: F401,F403,E402
from tensorflux.ops.sparse_serialization_ops import *  # noqa: F401,F403,E402
from tensorflux.ops import batch_linalg_ops  # noqa: F401,E402  (TF 0.9 Batch* op types)
from tensorflux import python  # noqa: F401,E402  (tf.python, as TF 0.9 exposed it)
from tensorflux.ops import word2vec_ops  # noqa: F401,E402  (Skipgram, NegTrain: TF 0.9 word2vec)
from tensorflux.autodiff import function_grad  # noqa: F401,E402  (gradients of Defun calls)
from tensorflux.ops import function_ops  # noqa: F401,E402  (SymbolicGradient)
