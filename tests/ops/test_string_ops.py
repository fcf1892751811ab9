import numpy as np
import pytest
from op_harness import OpSpec, run_spec

import tensorflux as tf
from tensorflux.ops import string_ops

pytestmark = pytest.mark.timeout(60)


def _strings(rng, shape, dtype):
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(*shape):
        out[index] = rng.choice([b"s3://b/x", b"/tmp/x", b"gs://y", b""])
    return out


_strings.dtype = tf.string


def _join_ref(a, b):
    return np.vectorize(lambda x, y: x + b"--" + y, otypes=[object])(a, b)


SPECS = [
    OpSpec("StringJoin", lambda a, b: string_ops.string_join([a, b], separator="--"), _join_ref,
           [((), ()), ((3,), ()), ((2, 2), (2, 2))], dtypes=[tf.string], inputs=_strings,
           grad=()),
    OpSpec("StaticRegexFullMatch", lambda s: string_ops.static_regex_full_match(s, "^s3://.*"),
           lambda s: np.vectorize(lambda x: x.startswith(b"s3://"), otypes=[bool])(s),
           [((),), ((4,),)], dtypes=[tf.string], inputs=_strings, grad=()),
]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_op(spec):
    run_spec(spec)


def test_string_join_mismatched_shapes_fail():
    a = tf.placeholder(tf.string, [None])
    joined = tf.string_join([a, tf.constant([b"x", b"y", b"z"])])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="shapes do not match"):
            sess.run(joined, {a: np.array([b"a", b"b"], dtype=object)})
        assert list(sess.run(joined, {a: np.array([b"a", b"b", b"c"], dtype=object)})) == [
            b"ax", b"by", b"cz"]
