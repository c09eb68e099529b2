"""Brian2's global state (device, preferences) kept as the caller had it.

Building and running a network changes process-wide settings of Brian2: the active device
(``cpp_standalone`` for a compiled run), the floating-point type of new objects
(``prefs.core.default_float_dtype``), the code-generation target and the compiler flags. The
public functions of ``corinfo_sim`` run inside :func:`preserved` so that a user's Python
process is in the device and has the preferences it had before the call.

One thing cannot be kept: a compiled (``cpp_standalone``) build resets Brian2's standalone
device with ``device.reinit()``, which forgets any standalone project of the caller's own that
was not built yet. The process is always handed back in the device it was in.
"""
import contextlib

#: The preferences a corinfo_sim build or run may set.
PREFERENCES = ("core.default_float_dtype", "codegen.target", "devices.cpp_standalone.openmp_threads",
               "codegen.cpp.extra_compile_args_gcc", "codegen.cpp.extra_link_args",
               "devices.cpp_standalone.run_environment_variables")


def snapshot():
    """The active device (with its build options), the device stack and :data:`PREFERENCES`."""
    import importlib

    import brian2
    devices = importlib.import_module("brian2.devices.device")
    active = devices.active_device
    return {"device": active, "build_on_run": getattr(active, "build_on_run", True),
            "build_options": dict(getattr(active, "build_options", {}) or {}),
            "previous": list(devices.previous_devices),
            "prefs": {name: _copy(brian2.prefs[name]) for name in PREFERENCES}}


def restore(state):
    """Bring back what :func:`snapshot` saw.

    Parameters
    ----------
    state : dict
        From :func:`snapshot`.
    """
    import importlib

    import brian2
    devices = importlib.import_module("brian2.devices.device")
    for name, value in state["prefs"].items():
        if not _same(brian2.prefs[name], value):
            brian2.prefs[name] = value
    if devices.active_device is not state["device"]:
        brian2.set_device(state["device"], build_on_run=state["build_on_run"], **state["build_options"])
    devices.previous_devices[:] = state["previous"]


@contextlib.contextmanager
def preserved():
    """Run the body, then restore Brian2's device and preferences (also after an exception)."""
    state = snapshot()
    try:
        yield state
    finally:
        restore(state)


def quiet_logging():
    """Keep Brian2's warnings off the console: corinfo_sim's own messages say what went wrong, on one line."""
    import logging

    from brian2.utils.logger import BrianLogger
    if BrianLogger.console_handler is not None:
        BrianLogger.console_handler.setLevel(logging.ERROR)


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b
