"""tf.saved_model.main_op: the op a SavedModel runs after restoring its variables."""
from tensorflux.framework import ops
from tensorflux.ops import control_flow_ops
from tensorflux.ops import variables


def main_op():
    """Initializes the local variables and the lookup tables (TF 1.0's default main op)."""
    init_local = variables.local_variables_initializer()
    tables = ops.get_collection(ops.GraphKeys.TABLE_INITIALIZERS)
    return control_flow_ops.group(init_local, *tables, name="main_op")
