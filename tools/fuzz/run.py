"""`make fuzz`: a long op-fuzzing campaign (tests/op_fuzz.py) over every registered op.

Prints the counts per op family and outcome, then the failures; exits 1 if there are any.
    python tools/fuzz/run.py [--examples N] [--seed S] [--family math_ops ...]
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import op_fuzz  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="Hypothesis cases per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--family", action="append", help="only these op families")
    args = parser.parse_args()
    start = time.monotonic()
    tally = op_fuzz.run_campaign(args.examples, args.seed, families=args.family)
    print(tally.report())
    print(f"\n{tally.total()} cases in {time.monotonic() - start:.0f} s")
    if tally.unwrapped:
        print(f"\n{len(tally.unwrapped)} kinds of unwrapped errors (TF class, NumPy's words):")
        for text, n in tally.unwrapped.most_common():
            print(f"  {n:5}  {text}")
    for failure in tally.failures:
        print("FAIL", failure)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
