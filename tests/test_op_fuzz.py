"""A bounded run of the op fuzzer (tests/op_fuzz.py) with a fixed seed: every harness spec and
every registered op, fed through shape-less placeholders and as constants. `make fuzz` runs
the long campaign."""
import pytest

import op_fuzz

pytestmark = pytest.mark.timeout(300)


def test_bounded_campaign_has_no_failures():
    tally = op_fuzz.run_campaign(examples_per_target=4, seed=20161206)
    assert not tally.failures, "\n".join([tally.report(), *tally.failures[:20]])
    # every family ran, and most cases got past graph construction
    assert tally.total() > 3000, tally.report()
    ran = sum(c["ok"] + c["tf_error"] + c["unwrapped"] for c in tally.counts.values())
    assert ran > tally.total() // 2, tally.report()


def test_fuzzer_reports_foreign_exceptions_and_hangs():
    """The classifier itself: a raw exception, a hang and an unnamed error are failures."""
    import tensorflux as tf

    def foreign(inputs):
        raise IndexError("list index out of range")
    assert op_fuzz.run_case(foreign, [], static=False)[0] == "foreign"

    def looping(inputs):
        while True:
            pass
    old, op_fuzz.CASE_SECONDS = op_fuzz.CASE_SECONDS, 0.2
    try:
        assert op_fuzz.run_case(looping, [], static=False)[0] == "hang"
    finally:
        op_fuzz.CASE_SECONDS = old

    def unnamed(inputs):
        raise tf.errors.InvalidArgumentError(None, None, "no op here")
    assert op_fuzz.run_case(unnamed, [], static=False)[0] == "unnamed"
    assert op_fuzz.run_case(lambda ins: tf.add(ins[0], 1.0), [__import__("numpy").float32(2)],
                            static=False)[:2] == ("ok", "")


def test_case_alarm_puts_back_an_earlier_timer():
    import signal
    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        op_fuzz.run_case(lambda ins: [], [], static=False)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < left <= 30
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired
