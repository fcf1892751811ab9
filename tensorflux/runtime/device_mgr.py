"""Local devices: what a Session can place ops on, each with its allocator and array module.

`ConfigProto(device_count={"CPU": 4})` gives a session four CPU devices in one process
(/job:localhost/replica:0/task:0/device:CPU:0 .. CPU:3), so placement and Send/Recv between
devices are testable on a machine without accelerators.
"""
import random
import threading

import numpy as np

from tensorflux.framework import device as pydev
from tensorflux.framework import errors

LOCAL_JOB = "localhost"
CPU_MEMORY_LIMIT = 256 << 20  # what TensorFlow reports for a CPU device
# Device types in the order the placer prefers them when an op is free to go anywhere.
DEVICE_TYPE_PRIORITY = {"GPU": 0, "CPU": 1}


class Allocator:
    """Accounts for the bytes of the arrays a device's kernels produce (memory stats only)."""

    def __init__(self, name):
        self.name = name
        self._lock = threading.Lock()
        self.bytes_in_use = 0
        self.peak_bytes_in_use = 0
        self.total_allocated_bytes = 0
        self.num_allocs = 0

    def record_allocation(self, nbytes):
        with self._lock:
            self.num_allocs += 1
            self.total_allocated_bytes += nbytes
            self.bytes_in_use += nbytes
            if self.bytes_in_use > self.peak_bytes_in_use:
                self.peak_bytes_in_use = self.bytes_in_use

    def record_deallocation(self, nbytes):
        with self._lock:
            self.bytes_in_use -= nbytes

    def stats(self):
        """A dict like TensorFlow's AllocatorStats."""
        with self._lock:
            return {"bytes_in_use": self.bytes_in_use, "peak_bytes_in_use": self.peak_bytes_in_use,
                    "total_allocated_bytes": self.total_allocated_bytes,
                    "num_allocs": self.num_allocs}


class LocalDevice:
    """One device of this process: its full name, type, index, incarnation and array module."""

    def __init__(self, device_type, index, job=LOCAL_JOB, replica=0, task=0,
                 memory_limit_bytes=CPU_MEMORY_LIMIT, xp=np):
        self.device_type = device_type.upper()
        self.index = index
        self.name = pydev.full_name(job, replica, task, self.device_type, index)
        self.spec = pydev.DeviceSpec(job, replica, task, self.device_type, index)
        self.memory_limit_bytes = memory_limit_bytes
        # A random 63-bit number per device per process start: a Recv names the incarnation of
        # the sender it expects, so a restarted peer is noticed (it fits an int64 attr).
        self.incarnation = random.getrandbits(63) or 1
        self.xp = xp
        self.allocator = Allocator(f"{self.device_type.lower()}")

    @property
    def short_name(self):
        """e.g. CPU:1 (used in the names of Send/Recv nodes)."""
        return f"{self.device_type}:{self.index}"

    def attributes(self):
        return DeviceAttributes(self.name, self.device_type, self.memory_limit_bytes,
                                self.incarnation)

    def __repr__(self):
        return f"<LocalDevice {self.name}>"


class DeviceAttributes:
    """What Session.list_devices() returns per device (TensorFlow's _DeviceAttributes)."""

    def __init__(self, name, device_type, memory_limit_bytes=0, incarnation=0):
        self.name = name
        self.device_type = device_type
        self.memory_limit_bytes = memory_limit_bytes
        self.incarnation = incarnation

    @property
    def memory_limit(self):
        """The DeviceAttributes proto's name for memory_limit_bytes (device_lib returns these)."""
        return self.memory_limit_bytes

    def __repr__(self):
        return (f"_DeviceAttributes({self.name}, {self.device_type}, {self.memory_limit_bytes}, "
                f"{self.incarnation})")


class DeviceMgr:
    """The devices of one session, in placement preference order, looked up by name."""

    def __init__(self, devices):
        if not devices:
            raise ValueError("A DeviceMgr needs at least one device")
        self.devices = sorted(devices, key=lambda d: (DEVICE_TYPE_PRIORITY.get(d.device_type, 9),
                                                      d.device_type, d.index))
        self._by_name = {d.name: d for d in self.devices}

    @classmethod
    def from_config(cls, config):
        """The local devices a ConfigProto asks for (`device_count`, default one CPU)."""
        count = config.device_count.get("CPU", 1) if config is not None else 1
        if count < 0:
            raise ValueError(f"ConfigProto.device_count['CPU'] must be >= 0, got {count}")
        return cls([LocalDevice("CPU", i) for i in range(max(count, 1))])

    def lookup(self, name):
        """The device called `name` (any spelling that parses to one full name)."""
        device = self._by_name.get(name)
        if device is not None:
            return device
        matches = self.matching(pydev.DeviceSpec.from_string(name))
        if len(matches) != 1:
            raise errors.InvalidArgumentError(
                None, None, f"Unknown device {name!r}; this process has "
                            f"{', '.join(self.names())}")
        return matches[0]

    def matching(self, spec):
        """Devices satisfying the (partial) DeviceSpec `spec`, in preference order."""
        return [d for d in self.devices if spec.is_satisfied_by(d.spec)]

    def names(self):
        return [d.name for d in self.devices]

    def __iter__(self):
        return iter(self.devices)

    def __len__(self):
        return len(self.devices)
