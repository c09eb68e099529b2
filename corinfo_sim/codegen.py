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
"""
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
