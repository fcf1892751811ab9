"""Runs the tutorial at its TF 0.9 import path:
tensorflux.models.image.cifar10.cifar10_eval
(`python -m tensorflux.models.image.cifar10.cifar10_eval` runs it too)."""
import os
import runpy
import sys

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

if __name__ == "__main__":
    runpy.run_module("tensorflux.models.image.cifar10.cifar10_eval",
                     run_name="__main__", alter_sys=True)
