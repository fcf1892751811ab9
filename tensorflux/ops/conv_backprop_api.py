"""The public functions of TF 0.9's depthwise convolution gradients,
`tf.nn.depthwise_conv2d_native_backprop_input` and `..._backprop_filter` (the ops themselves
are registered with DepthwiseConv2dNative in conv_ops)."""
from tensorflux.framework.op_def_library import apply_op

__all__ = ["depthwise_conv2d_native_backprop_input", "depthwise_conv2d_native_backprop_filter"]


def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides,  # noqa: A002
                                           padding, data_format="NHWC",
                                           dilations=(1, 1, 1, 1), name=None):
    """The gradient of depthwise_conv2d_native w.r.t. its input, of shape `input_sizes`."""
    return apply_op("DepthwiseConv2dNativeBackpropInput", input_sizes, filter, out_backprop,
                    strides=list(strides), padding=padding, data_format=data_format or "NHWC",
                    dilations=list(dilations), name=name)


def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides,  # noqa: A002
                                            padding, data_format="NHWC",
                                            dilations=(1, 1, 1, 1), name=None):
    """The gradient of depthwise_conv2d_native w.r.t. its filter, of shape `filter_sizes`."""
    return apply_op("DepthwiseConv2dNativeBackpropFilter", input, filter_sizes, out_backprop,
                    strides=list(strides), padding=padding, data_format=data_format or "NHWC",
                    dilations=list(dilations), name=name)
