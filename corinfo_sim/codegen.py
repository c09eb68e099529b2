"""C++ code generation for all-to-all pathways (cpp_standalone device).

Brian2 generates a synapse's code as one loop over synapses that reads the pre- and
postsynaptic indices of each synapse from arrays; the scattered writes keep the compiler from
vectorising it, and spikes reach the synapses through a queue that copies every target
synapse's index. Every pathway of a CorInfoMax network is all-to-all (the spiking lateral
pathway: all-to-all without self-connections) and stored presynaptic-major (see
:func:`corinfo_sim.network.weight_index`), so its code can run as a loop nest over (pre, post)
with contiguous memory access, and a spike can be applied straight from the source group's
list of this step's spikes.

:class:`AllToAllCodeObject` is Brian2's standalone code object with four templates extended
(``corinfo_sim/templates``, see ``all_to_all.cpp`` there): ``summed_variable``, ``stateupdate``
(used by ``run_regularly``), ``synapses`` (``on_pre`` code) and ``synapses_push_spikes``. The
statements inside the loops are still the ones Brian2 generates from the model equations; only
the loops and the index loads differ, and the synapses are visited in the same order, so the
results are the same. A pathway of another layout, with delays, or driven by a subgroup runs
Brian2's own code. Layout and delays are read at a code object's first call and again whenever
the number of synapses changes (delays set between two runs of one binary are not seen). The
``synapses`` template reads the source's spike list, so ``on_pre`` pathways of this code object
must be triggered by spikes (the default event). The runtime device keeps Brian2's code objects.

:func:`fix_clock_comparison` corrects the generated network loop, which decides whether two
clocks tick together with an absolute tolerance that fails for long runs (see there).
"""
import os

from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader


def _templater():
    """Brian2's standalone templater, with ``corinfo_sim/templates`` first.

    Brian2's own templates stay reachable as ``brian2/<name>``, so that a template of ours can
    extend the one it replaces.
    """
    base = CPPStandaloneCodeObject.templater
    templater = base.derive("corinfo_sim", templates_dir="templates")
    templater.env.loader = ChoiceLoader([
        PackageLoader("corinfo_sim", "templates"),
        PrefixLoader({"brian2": base.env.loader}),
        base.env.loader,
    ])
    return templater


class AllToAllCodeObject(CPPStandaloneCodeObject):
    """Standalone code object whose synapse loops are vectorised for all-to-all pathways."""

    templater = _templater()


#: The comparison of clock times in Brian2's generated ``network.cpp`` (cpp_standalone) ...
_CLOCK_TEST = "if(s==t || fabs(s-t)<=Clock_epsilon)"
#: ... and ours: within 1e-4 of the smaller time step, as Brian2's runtime device decides.
_CLOCK_TEST_RELATIVE = "if(s==t || fabs(s-t)<=1e-4*std::min(clock->dt[0], minclock->dt[0]))"


def fix_clock_comparison(project_dir):
    """Let clocks whose times agree to 1e-4 of a time step tick together in a compiled run.

    The network's per-sample operations run on clocks with dt = T, the sample duration, beside
    the step clock. Each clock's time is its step count times its dt, and the generated loop
    treats two clocks as simultaneous only when their times differ by at most 1e-14 s. Once t
    exceeds ≈ 100 s the rounding of the two products differs by more than that (with 1 ms steps,
    70 per sample: from sample 915 on, in 47 % of the samples), and then the onset of a sample
    (plasticity, reset, new input) runs a step after the step it belongs to. Brian2's runtime
    device compares relative to dt; this makes the compiled loop do the same.

    Raises
    ------
    RuntimeError
        The generated code does not contain the comparison this fix expects (another Brian2).
    """
    path = os.path.join(project_dir, "network.cpp")
    with open(path) as f:
        code = f.read()
    if _CLOCK_TEST not in code:
        raise RuntimeError(f"{path} has no clock comparison '{_CLOCK_TEST}': this Brian2 version's network loop "
                           "is not the one corinfo_sim was tested with")
    with open(path, "w") as f:
        f.write(code.replace(_CLOCK_TEST, _CLOCK_TEST_RELATIVE))
