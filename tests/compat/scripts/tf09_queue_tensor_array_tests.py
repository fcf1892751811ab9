# TF 0.9 unit tests of queues, readers and TensorArrays (tensorflow/python/kernel_tests style).
import os
import tempfile

import numpy as np
import tensorflow as tf
from tensorflow.python.framework import dtypes
from tensorflow.python.ops import data_flow_ops
from tensorflow.python.ops import gen_data_flow_ops
from tensorflow.python.ops import tensor_array_ops
from tensorflow.python.platform import googletest


class FIFOQueueTest(tf.test.TestCase):

    def testConstructor(self):
        with tf.Graph().as_default():
            q = tf.FIFOQueue(10, tf.float32, name="Q")
        self.assertTrue(isinstance(q.queue_ref, tf.Tensor))
        self.assertEquals(tf.string_ref, q.queue_ref.dtype)
        self.assertProtoEquals("""
          name:'Q' op:'FIFOQueue'
          attr { key: 'component_types' value { list { type: DT_FLOAT } } }
          attr { key: 'shapes' value { list {} } }
          attr { key: 'capacity' value { i: 10 } }
          attr { key: 'container' value { s: '' } }
          attr { key: 'shared_name' value { s: '' } }
          """, q.queue_ref.op.node_def)

    def testMultiEnqueueManyAndDequeue(self):
        with self.test_session() as sess:
            q = tf.FIFOQueue(10, (tf.int32, tf.float32), shapes=((), (2,)))
            float_elems = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
            q.enqueue_many(([10, 20, 30], float_elems)).run()
            ints, floats = sess.run(q.dequeue_many(2))
            self.assertAllEqual([10, 20], ints)
            self.assertAllEqual(float_elems[:2], floats)
            self.assertEqual(30, sess.run(q.dequeue()[0]))

    def testSharedQueueSameSession(self):
        with self.test_session():
            q1 = tf.FIFOQueue(1, tf.float32, shared_name="shared_queue")
            q1.enqueue((10.0,)).run()
            q2 = tf.FIFOQueue(1, tf.float32, shared_name="shared_queue")
            self.assertEqual(q1.size().eval(), 1)
            self.assertEqual(q2.size().eval(), 1)
            self.assertEqual(q2.dequeue().eval(), [10.0])
            self.assertEqual(q1.size().eval(), 0)

    def testSelectQueue(self):
        with self.test_session():
            num_queues = 3
            qlist = [tf.FIFOQueue(10, tf.float32) for _ in range(num_queues)]
            for i in range(20):
                index = np.random.randint(num_queues)
                q = tf.FIFOQueue.from_list(index, qlist)
                q.enqueue((10.,)).run()
                self.assertEqual(q.dequeue().eval(), 10.0)
                del i

    def testRandomShuffleAndPaddingQueues(self):
        with self.test_session():
            q = tf.RandomShuffleQueue(10, 0, tf.int32, shapes=((),), seed=7)
            q.enqueue_many(([1, 2, 3],)).run()
            self.assertEqual(sorted(q.dequeue_many(3).eval().tolist()), [1, 2, 3])
            p = data_flow_ops.PaddingFIFOQueue(5, tf.int32, shapes=((None,),))
            p.enqueue(([1, 2],)).run()
            p.enqueue(([3],)).run()
            self.assertAllEqual([[1, 2], [3, 0]], p.dequeue_many(2).eval())


class ReaderTest(tf.test.TestCase):

    def testWholeFileReaderWithQueueRunners(self):
        folder = tempfile.mkdtemp()
        names = [os.path.join(folder, "f%d" % i) for i in range(2)]
        for i, name in enumerate(names):
            with open(name, "wb") as f:
                f.write(b"contents %d" % i)
        with self.test_session() as sess:
            queue = tf.train.string_input_producer(names, num_epochs=1, shuffle=False)
            key, value = tf.WholeFileReader().read(queue)
            tf.initialize_local_variables().run()
            coord = tf.train.Coordinator()
            threads = tf.train.start_queue_runners(sess=sess, coord=coord)
            got = [sess.run([key, value]) for _ in names]
            self.assertEqual([v for _, v in got], [b"contents 0", b"contents 1"])
            coord.request_stop()
            coord.join(threads)


class TensorArrayTest(tf.test.TestCase):

    def testTensorArrayWritePack(self):
        with self.test_session():
            h = tensor_array_ops.TensorArray(dtype=tf.float32, tensor_array_name="foo", size=3)
            w0 = h.write(0, [[4.0, 5.0]])
            w1 = w0.write(1, [[6.0, 7.0]])
            w2 = w1.write(2, [[8.0, 9.0]])
            c0 = w2.pack()
            self.assertAllEqual([[[4.0, 5.0]], [[6.0, 7.0]], [[8.0, 9.0]]], c0.eval())
            self.assertEqual(dtypes.string, h.handle.dtype)

    def testTensorArrayV1OpsAndGradient(self):
        with self.test_session() as sess:
            handle = gen_data_flow_ops._tensor_array(size=3, dtype=tf.float32)
            self.assertEqual(tf.string_ref, handle.dtype)
            x = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
            ta = tensor_array_ops.TensorArray(dtype=tf.float32, handle=handle).unpack(x)
            packed = ta.pack()
            grad = tf.gradients(tf.reduce_sum(packed * packed), x)[0]
            types = set(op.type for op in tf.get_default_graph().get_operations())
            self.assertTrue(set(["TensorArray", "TensorArrayUnpack", "TensorArrayPack",
                                 "TensorArrayGrad"]) <= types)
            packed_value, grad_value = sess.run([packed, grad])
            self.assertAllEqual(packed_value, x.eval())
            self.assertAllEqual(grad_value, 2 * x.eval())

    def testTensorArrayInWhileLoop(self):
        with self.test_session():
            n = 4
            ta = tensor_array_ops.TensorArray(dtype=tf.float32, size=n)

            def body(i, ta):
                return i + 1, ta.write(i, tf.cast(i, tf.float32) * 2.0)
            _, ta = tf.while_loop(lambda i, _: i < n, body, [tf.constant(0), ta])
            self.assertAllEqual([0.0, 2.0, 4.0, 6.0], ta.pack().eval())


if __name__ == "__main__":
    googletest.main()
