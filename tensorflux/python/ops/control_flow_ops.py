"""tensorflow.python.ops.control_flow_ops -> tensorflux.ops.control_flow_ops (cond, while_loop,
group, tuple, with_dependencies, no_op, case) and tensorflux.ops.control_flow_primitives (switch,
merge, loop_cond, enter, ref_switch, ref_select); exit and next_iteration are the generated
functions of their ops."""
from tensorflux.python.ops.gen_control_flow_ops import *  # noqa: F401,F403
from tensorflux.python.ops.gen_control_flow_ops import _exit as exit  # noqa: F401,A001
from tensorflux.ops.control_flow_ops import *  # noqa: F401,F403
from tensorflux.ops.control_flow_primitives import (  # noqa: F401
    loop_cond, merge, ref_select, ref_switch, switch, _enter as enter)
