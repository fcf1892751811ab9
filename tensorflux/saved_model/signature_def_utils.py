"""tf.saved_model.signature_def_utils: SignatureDefs, the named inputs and outputs that
TensorFlow Serving (and `saved_model_cli`) call a SavedModel through."""
from tensorflux.framework import dtypes
from tensorflux.framework import protos
from tensorflux.saved_model import signature_constants as sc
from tensorflux.saved_model import utils


def build_signature_def(inputs=None, outputs=None, method_name=None):
    """A SignatureDef from {key: TensorInfo} maps and a method name."""
    signature = protos.SignatureDef()
    for key, info in (inputs or {}).items():
        signature.inputs[key].CopyFrom(info)
    for key, info in (outputs or {}).items():
        signature.outputs[key].CopyFrom(info)
    if method_name is not None:
        signature.method_name = method_name
    return signature


def _require(tensor, what, dtype=None):
    if tensor is None:
        raise ValueError("%s cannot be None." % what)
    if dtype is not None and tensor.dtype.base_dtype != dtype:
        raise ValueError("%s type is not %s: %s" % (what, dtype.name, tensor.dtype.name))
    return utils.build_tensor_info(tensor)


def regression_signature_def(examples, predictions):
    """Serving's Regress API: serialized tf.Examples in, float predictions out."""
    return build_signature_def(
        {sc.REGRESS_INPUTS: _require(examples, "Regression examples", dtypes.string)},
        {sc.REGRESS_OUTPUTS: _require(predictions, "Regression outputs", dtypes.float32)},
        sc.REGRESS_METHOD_NAME)


def classification_signature_def(examples, classes, scores):
    """Serving's Classify API: serialized tf.Examples in, class names and/or scores out."""
    if classes is None and scores is None:
        raise ValueError("Classification classes and scores cannot both be None.")
    outputs = {}
    if classes is not None:
        outputs[sc.CLASSIFY_OUTPUT_CLASSES] = _require(classes, "Classification classes",
                                                       dtypes.string)
    if scores is not None:
        outputs[sc.CLASSIFY_OUTPUT_SCORES] = _require(scores, "Classification scores",
                                                      dtypes.float32)
    return build_signature_def(
        {sc.CLASSIFY_INPUTS: _require(examples, "Classification examples", dtypes.string)},
        outputs, sc.CLASSIFY_METHOD_NAME)


def predict_signature_def(inputs, outputs):
    """Serving's Predict API: {key: Tensor} inputs and outputs of any dtype."""
    if not inputs:
        raise ValueError("Prediction inputs cannot be None or empty.")
    if not outputs:
        raise ValueError("Prediction outputs cannot be None or empty.")
    return build_signature_def({k: utils.build_tensor_info(t) for k, t in inputs.items()},
                               {k: utils.build_tensor_info(t) for k, t in outputs.items()},
                               sc.PREDICT_METHOD_NAME)


def is_valid_signature(signature_def):
    """Whether `signature_def` has inputs, outputs and a method name Serving accepts."""
    if signature_def is None or not signature_def.inputs or not signature_def.outputs:
        return False
    return signature_def.method_name in (sc.PREDICT_METHOD_NAME, sc.CLASSIFY_METHOD_NAME,
                                         sc.REGRESS_METHOD_NAME)
