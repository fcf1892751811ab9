"""device_lib.list_local_devices(): the devices a Session in this process would get."""
from tensorflux.runtime.device_mgr import DeviceMgr

__all__ = ["list_local_devices"]


def list_local_devices(session_config=None):
    """The local devices, in placement preference order, for `session_config` (a ConfigProto;
    its device_count picks how many CPUs). Each has name, device_type, memory_limit and
    incarnation, as TF's DeviceAttributes."""
    return [d.attributes() for d in DeviceMgr.from_config(session_config).devices]
