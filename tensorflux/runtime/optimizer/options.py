"""Which plan-compile-time passes a session runs, read from its ConfigProto as TensorFlow spells
the switches.

`graph_options.optimizer_options` (TF's classic graph optimizer):
  * `opt_level`: L1 (the default) turns every pass on; L0 turns them all off, except those a
    field below turns back on.
  * `do_constant_folding`, `do_common_subexpression_elimination`: at L0, True turns the pass on.
    As in TensorFlow these bools cannot turn a pass off at L1 (proto3 cannot tell False from
    unset); `rewrite_options` can.
  * `max_folded_constant_in_bytes`: the largest value constant folding makes (0: 10 MiB).
  * `do_function_inlining`: accepted; tensorflux graphs have no function library to inline.

`graph_options.rewrite_options` (TF 1.x's RewriterConfig; ON turns a pass on even at L0, OFF
turns it off even at L1):
  * `constant_folding`, `common_subgraph_elimination`;
  * `dependency_optimization`: Identity and NoOp removal;
  * `arithmetic_optimization`: x*1, x+0, -(-x), transpose pairs, and (as TF's arithmetic
    optimizer rewrites AddN trees) batched sums: an AddN of MatMuls, Sums or Pads as one op;
  * `remapping`: fusion of element-wise chains into one kernel, and of MatMul + bias;
  * `memory_optimization`: NO_MEM_OPT turns buffer reuse off (any other value leaves it to
    opt_level; MANUAL and the heuristics turn it on at L0);
  * `disable_meta_optimizer`: True turns off the four tensorflux passes just listed.

`inter_op_parallelism_threads = 1` (ops one after another, as in TensorFlow) turns lanes off:
a big product running on a second thread beside the steps that do not need it (lanes.py). It
is on at L1 otherwise.
"""
from tensorflux.framework import protos

_ON, _OFF = protos.RewriterConfig.ON, protos.RewriterConfig.OFF
_NO_MEM_OPT = protos.RewriterConfig.NO_MEM_OPT
_DEFAULT_MAX_FOLD = 10 << 20


class Settings:
    """The passes to run (booleans) and the constant-folding size cap, fixed per session."""

    __slots__ = ("fold", "cse", "dependency", "arithmetic", "batched_sums", "fusion",
                 "matmul_bias", "memory", "lanes", "max_fold_bytes")

    def __init__(self, fold=True, cse=True, dependency=True, arithmetic=True, fusion=True,
                 memory=True, max_fold_bytes=_DEFAULT_MAX_FOLD, batched_sums=None,
                 matmul_bias=None, lanes=True):
        self.fold, self.cse, self.dependency = fold, cse, dependency
        self.arithmetic, self.fusion, self.memory = arithmetic, fusion, memory
        # follows arithmetic unless set: one RewriterConfig switch turns both off
        self.batched_sums = arithmetic if batched_sums is None else batched_sums
        self.matmul_bias = fusion if matmul_bias is None else matmul_bias  # both: remapping
        self.lanes = lanes
        self.max_fold_bytes = max_fold_bytes

    @property
    def any(self):
        return any((self.fold, self.cse, self.dependency, self.arithmetic, self.batched_sums,
                    self.fusion, self.matmul_bias, self.memory, self.lanes))

    @classmethod
    def from_config(cls, config):
        """The settings a ConfigProto asks for (None: TensorFlow's defaults, all passes on)."""
        config = config if config is not None else protos.ConfigProto()
        opts = config.graph_options.optimizer_options
        rewrite = config.graph_options.rewrite_options
        level_on = opts.opt_level >= protos.OptimizerOptions.L1
        meta_off = rewrite.disable_meta_optimizer

        def toggled(toggle, default):
            return toggle == _ON or (toggle != _OFF and default)

        memory = rewrite.memory_optimization
        return cls(
            fold=toggled(rewrite.constant_folding, level_on or opts.do_constant_folding),
            cse=toggled(rewrite.common_subgraph_elimination,
                        level_on or opts.do_common_subexpression_elimination),
            dependency=not meta_off and toggled(rewrite.dependency_optimization, level_on),
            arithmetic=not meta_off and toggled(rewrite.arithmetic_optimization, level_on),
            fusion=not meta_off and toggled(rewrite.remapping, level_on),
            memory=not meta_off and memory != _NO_MEM_OPT and (level_on or memory != 0),
            lanes=level_on and config.inter_op_parallelism_threads != 1,
            max_fold_bytes=opts.max_folded_constant_in_bytes or _DEFAULT_MAX_FOLD)

    def __repr__(self):
        on = [name for name in self.__slots__[:-1] if getattr(self, name)]
        return f"<optimizer.Settings {', '.join(on) or 'off'}>"
