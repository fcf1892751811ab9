"""TensorFlow's compiled protocol buffers, taken from the `tensorboard` package.

This is the one module of tensorflux that imports them (tests check it); everything else says
`from tensorflux.framework import protos` and uses `protos.GraphDef`, `protos.ConfigProto`, ...
so that TensorFlow itself never has to be installed.
"""
from tensorboard.compat.proto import (  # noqa: F401  (re-exported)
    attr_value_pb2,
    cluster_pb2,
    config_pb2,
    cost_graph_pb2,
    event_pb2,
    function_pb2,
    graph_pb2,
    histogram_pb2,
    meta_graph_pb2,
    node_def_pb2,
    op_def_pb2,
    resource_handle_pb2,
    rewriter_config_pb2,
    saver_pb2,
    step_stats_pb2,
    summary_pb2,
    tensor_description_pb2,
    tensor_pb2,
    tensor_shape_pb2,
    types_pb2,
    variable_pb2,
    versions_pb2,
)

AttrValue = attr_value_pb2.AttrValue
NameAttrList = attr_value_pb2.NameAttrList
ConfigProto = config_pb2.ConfigProto
ClusterDef = cluster_pb2.ClusterDef
JobDef = cluster_pb2.JobDef
GPUOptions = config_pb2.GPUOptions
GraphOptions = config_pb2.GraphOptions
OptimizerOptions = config_pb2.OptimizerOptions
RewriterConfig = rewriter_config_pb2.RewriterConfig
RunOptions = config_pb2.RunOptions
RunMetadata = config_pb2.RunMetadata
CostGraphDef = cost_graph_pb2.CostGraphDef
Event = event_pb2.Event
SessionLog = event_pb2.SessionLog
TaggedRunMetadata = event_pb2.TaggedRunMetadata
LogMessage = event_pb2.LogMessage
FunctionDefLibrary = function_pb2.FunctionDefLibrary
GraphDef = graph_pb2.GraphDef
HistogramProto = histogram_pb2.HistogramProto
MetaGraphDef = meta_graph_pb2.MetaGraphDef
SignatureDef = meta_graph_pb2.SignatureDef
TensorInfo = meta_graph_pb2.TensorInfo
AssetFileDef = meta_graph_pb2.AssetFileDef
CollectionDef = meta_graph_pb2.CollectionDef
NodeDef = node_def_pb2.NodeDef
OpDef = op_def_pb2.OpDef
OpList = op_def_pb2.OpList
SaverDef = saver_pb2.SaverDef
StepStats = step_stats_pb2.StepStats
DeviceStepStats = step_stats_pb2.DeviceStepStats
NodeExecStats = step_stats_pb2.NodeExecStats
NodeOutput = step_stats_pb2.NodeOutput
AllocatorMemoryUsed = step_stats_pb2.AllocatorMemoryUsed
Summary = summary_pb2.Summary
SummaryDescription = summary_pb2.SummaryDescription
TensorDescription = tensor_description_pb2.TensorDescription
TensorProto = tensor_pb2.TensorProto
TensorShapeProto = tensor_shape_pb2.TensorShapeProto
DataType = types_pb2.DataType
VersionDef = versions_pb2.VersionDef
VariableDef = variable_pb2.VariableDef
SaveSliceInfoDef = variable_pb2.SaveSliceInfoDef
