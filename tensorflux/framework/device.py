"""Device names as TensorFlow writes them: /job:worker/replica:0/task:1/device:CPU:0.

Short forms (`/cpu:0`, `/gpu:1`, `/device:GPU:*`) parse too. Partial specs merge the way nested
`tf.device` scopes do: inner fields override outer ones, unset fields are inherited.
"""
import re

_FIELD_RE = re.compile(r"^(job|replica|task|device|cpu|gpu)(?::(.*))?$", re.IGNORECASE)


class DeviceSpec:
    """A (possibly partial) device specification."""

    __slots__ = ("job", "replica", "task", "device_type", "device_index")

    def __init__(self, job=None, replica=None, task=None, device_type=None, device_index=None):
        self.job = job
        self.replica = None if replica is None else int(replica)
        self.task = None if task is None else int(task)
        self.device_type = None if device_type is None else device_type.upper()
        self.device_index = device_index

    @classmethod
    def from_string(cls, spec):
        """Parses `spec`; ValueError naming the bad part if it is not a device name."""
        result = cls()
        for part in (spec or "").split("/"):
            if not part:
                continue
            match = _FIELD_RE.match(part)
            if not match:
                raise ValueError(f"Unknown device specification {spec!r}: cannot parse {part!r}; "
                                 "expected e.g. '/job:worker/task:0/device:CPU:0' or '/gpu:1'")
            key, value = match.group(1).lower(), match.group(2)
            try:
                result._set_field(key, value)
            except ValueError:
                raise ValueError(f"Unknown device specification {spec!r}: bad value in "
                                 f"{part!r}") from None
        return result

    def _set_field(self, key, value):
        if key == "job":
            self.job = value
        elif key in ("replica", "task"):
            setattr(self, key, int(value))
        elif key in ("cpu", "gpu"):
            self.device_type = key.upper()
            self.device_index = _parse_index(value)
        else:  # device:TYPE:INDEX or device:TYPE
            dev_type, _, index = (value or "").partition(":")
            if not dev_type:
                raise ValueError(value)
            self.device_type = dev_type.upper()
            self.device_index = _parse_index(index) if index else None

    def merge_from(self, other):
        """Overrides this spec's fields with the fields `other` sets."""
        for name in self.__slots__:
            value = getattr(other, name)
            if value is not None:
                setattr(self, name, value)
        return self

    def parse_from_string(self, spec):
        """Replaces this spec's fields with those parsed from `spec` (TensorFlow 0.9 API)."""
        parsed = DeviceSpec.from_string(spec)
        for name in self.__slots__:
            setattr(self, name, getattr(parsed, name))
        return self

    def is_satisfied_by(self, device):
        """Whether the fully specified DeviceSpec `device` has every field this spec sets."""
        for name in self.__slots__:
            want = getattr(self, name)
            if want is not None and want != getattr(device, name):
                return False
        return True

    def conflicts_with(self, other):
        """The first field both specs set to different values, or None."""
        for name in self.__slots__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine is not None and theirs is not None and mine != theirs:
                return name
        return None

    def copy(self):
        return DeviceSpec(self.job, self.replica, self.task, self.device_type, self.device_index)

    def to_string(self):
        parts = []
        if self.job is not None:
            parts.append(f"/job:{self.job}")
        if self.replica is not None:
            parts.append(f"/replica:{self.replica}")
        if self.task is not None:
            parts.append(f"/task:{self.task}")
        if self.device_type is not None:
            index = "*" if self.device_index is None else self.device_index
            parts.append(f"/device:{self.device_type}:{index}")
        return "".join(parts)

    def __eq__(self, other):
        return isinstance(other, DeviceSpec) and self.to_string() == other.to_string()

    def __hash__(self):
        return hash(self.to_string())

    def __repr__(self):
        return f"DeviceSpec({self.to_string()!r})"


def full_name(job, replica, task, device_type, index):
    """A fully specified device name: /job:localhost/replica:0/task:0/device:CPU:0."""
    return f"/job:{job}/replica:{replica}/task:{task}/device:{device_type.upper()}:{index}"


def _parse_index(text):
    if text in (None, "", "*"):
        return None
    return int(text)


def canonical_name(spec):
    """Normalises a device string: '/gpu:0' -> '/device:GPU:0'."""
    if isinstance(spec, DeviceSpec):
        return spec.to_string()
    return DeviceSpec.from_string(spec).to_string() if spec else ""


def merge_device(spec):
    """A device function filling the fields of `spec` that the op's device leaves unset.

    Device functions run innermost first (TF semantics), so the fields an inner scope already
    set on the op take precedence over this (outer) spec's."""
    parsed = spec if isinstance(spec, DeviceSpec) else DeviceSpec.from_string(spec)

    def _merge(op):
        current = DeviceSpec.from_string(op.device) if op.device else DeviceSpec()
        return parsed.copy().merge_from(current).to_string()
    _merge.spec = parsed
    return _merge
