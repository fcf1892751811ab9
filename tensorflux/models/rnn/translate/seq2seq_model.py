"""Sequence-to-sequence model with attention and buckets (the "Sequence-to-Sequence Models"
tutorial's model), on tensorflux.

An embedding_attention_seq2seq network (multi-layer GRU or LSTM) is built once per bucket by
model_with_buckets, sharing its variables across buckets. With num_samples smaller than the
target vocabulary, the decoder's outputs go through an output projection and training uses
sampled softmax. Each bucket gets its own clipped gradient-descent update.
"""
import random

import numpy as np

import tensorflux as tf

# Special vocabulary symbols, as in the tutorial's data_utils (ids 0-3 in every vocabulary).
PAD_ID, GO_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


class Seq2SeqModel(object):
    """Sequence-to-sequence model with attention and for multiple buckets.

    Args:
      source_vocab_size, target_vocab_size: vocabulary sizes.
      buckets: [(max source length, max target length)], increasing; inputs longer than the
        last bucket are not handled.
      size: units in each layer. num_layers: layers in the model.
      max_gradient_norm: gradients are clipped to this global norm.
      batch_size: examples per training step (and per get_batch).
      learning_rate, learning_rate_decay_factor: the start rate and the factor that
        learning_rate_decay_op multiplies it by.
      use_lstm: BasicLSTMCell instead of GRUCell.
      num_samples: classes sampled by the sampled softmax (used when < target_vocab_size).
      forward_only: build no gradients or updates; decode by feeding each output back.
    """

    def __init__(self, source_vocab_size, target_vocab_size, buckets, size, num_layers,
                 max_gradient_norm, batch_size, learning_rate, learning_rate_decay_factor,
                 use_lstm=False, num_samples=512, forward_only=False):
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.buckets = buckets
        self.batch_size = batch_size
        self.learning_rate = tf.Variable(float(learning_rate), trainable=False)
        self.learning_rate_decay_op = self.learning_rate.assign(
            self.learning_rate * learning_rate_decay_factor)
        self.global_step = tf.Variable(0, trainable=False)

        output_projection, softmax_loss_function = self._sampled_softmax(
            size, target_vocab_size, num_samples)
        cell = self._make_cell(size, num_layers, use_lstm)

        def seq2seq_f(encoder_inputs, decoder_inputs, do_decode):
            return tf.nn.seq2seq.embedding_attention_seq2seq(
                encoder_inputs, decoder_inputs, cell,
                num_encoder_symbols=source_vocab_size, num_decoder_symbols=target_vocab_size,
                embedding_size=size, output_projection=output_projection,
                feed_previous=do_decode)

        self._make_placeholders(buckets)
        # Targets are the decoder inputs shifted by one (without the GO symbol).
        targets = [self.decoder_inputs[i + 1] for i in range(len(self.decoder_inputs) - 1)]
        self.outputs, self.losses = tf.nn.seq2seq.model_with_buckets(
            self.encoder_inputs, self.decoder_inputs, targets, self.target_weights, buckets,
            lambda x, y: seq2seq_f(x, y, forward_only),
            softmax_loss_function=softmax_loss_function)
        if forward_only and output_projection is not None:
            # Decoding needs logits over the whole vocabulary.
            w, b = output_projection
            self.outputs = [[tf.matmul(output, w) + b for output in bucket_outputs]
                            for bucket_outputs in self.outputs]
        if not forward_only:
            self._make_updates(max_gradient_norm)
        self.saver = tf.train.Saver(tf.all_variables())

    @staticmethod
    def _sampled_softmax(size, target_vocab_size, num_samples):
        """(output projection, loss function), both None for a full softmax."""
        if not 0 < num_samples < target_vocab_size:
            return None, None
        w = tf.get_variable("proj_w", [size, target_vocab_size])
        w_t = tf.transpose(w)
        b = tf.get_variable("proj_b", [target_vocab_size])

        # Called as f(logits, labels) by 0.9's sequence_loss and f(labels=, logits=) by 1.x's;
        # the "logits" here are the decoder outputs before the projection.
        def sampled_loss(logits, labels):
            labels = tf.reshape(labels, [-1, 1])
            return tf.nn.sampled_softmax_loss(weights=w_t, biases=b, inputs=logits,
                                              labels=labels, num_sampled=num_samples,
                                              num_classes=target_vocab_size)
        return (w, b), sampled_loss

    @staticmethod
    def _make_cell(size, num_layers, use_lstm):
        def single_cell():
            if use_lstm:
                return tf.nn.rnn_cell.BasicLSTMCell(size, state_is_tuple=True)
            return tf.nn.rnn_cell.GRUCell(size)
        if num_layers == 1:
            return single_cell()
        return tf.nn.rnn_cell.MultiRNNCell([single_cell() for _ in range(num_layers)],
                                           state_is_tuple=True)

    def _make_placeholders(self, buckets):
        self.encoder_inputs = [tf.placeholder(tf.int32, shape=[None], name="encoder{0}".format(i))
                               for i in range(buckets[-1][0])]
        self.decoder_inputs = [tf.placeholder(tf.int32, shape=[None], name="decoder{0}".format(i))
                               for i in range(buckets[-1][1] + 1)]
        self.target_weights = [tf.placeholder(tf.float32, shape=[None],
                                              name="weight{0}".format(i))
                               for i in range(buckets[-1][1] + 1)]

    def _make_updates(self, max_gradient_norm):
        params = tf.trainable_variables()
        self.gradient_norms = []
        self.updates = []
        opt = tf.train.GradientDescentOptimizer(self.learning_rate)
        for b in range(len(self.buckets)):
            gradients = tf.gradients(self.losses[b], params)
            clipped_gradients, norm = tf.clip_by_global_norm(gradients, max_gradient_norm)
            self.gradient_norms.append(norm)
            self.updates.append(opt.apply_gradients(zip(clipped_gradients, params),
                                                    global_step=self.global_step))

    def step(self, session, encoder_inputs, decoder_inputs, target_weights, bucket_id,
             forward_only):
        """Runs one step on time-major inputs for a bucket.

        Returns (gradient norm or None, average loss, outputs or None): outputs (one
        [batch, vocabulary] array of logits per decoder position) only when forward_only.
        """
        encoder_size, decoder_size = self.buckets[bucket_id]
        for what, got, want in (("Encoder", len(encoder_inputs), encoder_size),
                                ("Decoder", len(decoder_inputs), decoder_size),
                                ("Weights", len(target_weights), decoder_size)):
            if got != want:
                raise ValueError("%s length must be equal to the one in bucket, %d != %d."
                                 % (what, got, want))
        input_feed = {}
        for l in range(encoder_size):
            input_feed[self.encoder_inputs[l]] = encoder_inputs[l]
        for l in range(decoder_size):
            input_feed[self.decoder_inputs[l]] = decoder_inputs[l]
            input_feed[self.target_weights[l]] = target_weights[l]
        # The last target is the decoder input one past the bucket; it always has weight 0.
        last_target = self.decoder_inputs[decoder_size]
        input_feed[last_target] = np.zeros([len(encoder_inputs[0])], dtype=np.int32)

        if not forward_only:
            output_feed = [self.updates[bucket_id], self.gradient_norms[bucket_id],
                           self.losses[bucket_id]]
        else:
            output_feed = [self.losses[bucket_id]] + list(self.outputs[bucket_id][:decoder_size])
        outputs = session.run(output_feed, input_feed)
        if not forward_only:
            return outputs[1], outputs[2], None
        return None, outputs[0], outputs[1:]

    def get_batch(self, data, bucket_id):
        """A random batch from data[bucket_id] (lists of (source ids, target ids)), made
        time-major and padded: (encoder inputs, decoder inputs, target weights).

        The source is padded then reversed; the target gets GO in front and PAD after.
        """
        encoder_size, decoder_size = self.buckets[bucket_id]
        encoder_rows, decoder_rows = [], []
        for _ in range(self.batch_size):
            encoder_input, decoder_input = random.choice(data[bucket_id])
            encoder_pad = [PAD_ID] * (encoder_size - len(encoder_input))
            encoder_rows.append(list(reversed(list(encoder_input) + encoder_pad)))
            decoder_pad = [PAD_ID] * (decoder_size - len(decoder_input) - 1)
            decoder_rows.append([GO_ID] + list(decoder_input) + decoder_pad)
        encoder = np.array(encoder_rows, dtype=np.int32).T
        decoder = np.array(decoder_rows, dtype=np.int32).T
        # Weight 0 where the target (the next decoder input) is padding or past the end.
        next_target = np.concatenate([decoder[1:], np.full((1, self.batch_size), PAD_ID)], 0)
        weights = (next_target != PAD_ID).astype(np.float32)
        return list(encoder), list(decoder), list(weights)
