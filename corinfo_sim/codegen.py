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
results are the same. Three further savings keep the results the same to the bit (the third to
the rounding of a square): a summed
variable skips the rows of presynaptic neurons whose gating variable is 0
(:func:`zero_input_gate`: a rate-0 neuron adds nothing to ``w*r_pre``), and a pathway of at
least :data:`PARALLEL_MIN` synapses splits its postsynaptic neurons over OpenMP threads, each
thread summing its own neurons in the usual order (only when the code writes no presynaptic
variable, :func:`writes_no_presynaptic`), and the sum of a pathway's terms and the sum of their
squares run in one loop (:func:`squared_partner`). These are the only OpenMP regions of the binary; the
session compiles with ``-fopenmp`` and sets the number of threads per run
(:func:`corinfo_sim.session.thread_environment`). A spike-carrying pathway whose synapses all have the same delay of D steps
keeps the spikes of its last D + 1 steps in a ring of its own and applies those of D steps before
(the queue would deliver the same spikes at the same step, in the same order). A pathway of
another layout, with delays that differ between its synapses, or driven by a subgroup runs
Brian2's own code. Layout and delays are read at a code object's first call and again whenever
the number of synapses changes (delays set between two runs of one binary are not seen). The
``synapses`` template reads the source's spike list, so ``on_pre`` pathways of this code object
must be triggered by spikes (the default event). The runtime device keeps Brian2's code objects.

:func:`fix_clock_comparison` corrects the generated network loop, which decides whether two
clocks tick together with an absolute tolerance that fails for long runs (see there).
"""
import os
import re

import sympy
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.parsing.sympytools import str_to_sympy
from brian2.utils.stringtools import get_identifiers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader

#: Synapses of a pathway from which its loops run on several threads; smaller ones run on one,
#: since handing a loop to the threads costs tens of microseconds on a virtual machine. Measured
#: on 3072-2000-1000-100, float32, 2 threads against 1: 1.34× faster with every pathway from
#: 65 536 synapses split, 1.70× with only those from 1.5 M (the 2000 × 2000 lateral and the two
#: 2000 × 1000 pathways). ``CORINFO_PARALLEL_MIN`` in a run's environment replaces it.
PARALLEL_MIN = 1_500_000


def zero_input_gate(synapses, target_var, variables, get_array_name):
    """Array of a presynaptic variable whose value 0 makes a summed variable's expression 0.

    For ``w*r_pre*V0`` this is the array of ``r_pre``: a presynaptic neuron with r = 0 adds
    nothing to the sum, and the ``summed_variable`` template skips its synapses. The
    expression must be exactly 0 for the value 0 whatever the other variables are (checked
    with sympy); with finite weights the skipped terms are ±0, so the sum is the same to the
    bit. Returns "" when no presynaptic variable gates the expression.
    """
    updaters = [u for u in synapses.summed_updaters.values() if u.target_var is target_var]
    if len(updaters) != 1:
        return ""
    code = updaters[0].expression.code
    expression = str_to_sympy(code)
    symbols = {symbol.name: symbol for symbol in expression.free_symbols}
    for name in sorted(get_identifiers(code)):
        variable = variables.get(name)
        if (name.endswith("_pre") and name in symbols and variable is not None and not variable.scalar
                and sympy.simplify(expression.subs(symbols[name], 0)) == 0):
            return get_array_name(variable)
    return ""


def squared_partner(synapses, target_var):
    """The part a summed variable plays in a pair summed in one loop (Gaussian failures).

    A pathway with Gaussian failures (:mod:`corinfo_sim.biophysics`) sums each input twice onto
    its postsynaptic group: ``X_sum = e`` and ``X_sq = (e)**2``. Two loops over the synapses would
    read every weight and rate twice; instead the loop of ``X_sum`` adds the square of each term
    to ``X_sq`` as well, and the code object of ``X_sq`` does nothing. The pair is recognised by
    the names and checked with sympy (the second expression is the square of the first).

    Returns
    -------
    str
        For ``X_sum``: the name of ``X_sq``'s array, which its loop also fills; for ``X_sq`` with
        such a partner: ``"fused"``; otherwise ``""``.
    """
    from brian2.devices.device import get_device
    name = target_var.name
    stem, own = (name[:-4], "sum") if name.endswith("_sum") else (name[:-3], "sq") if name.endswith("_sq") else (name, "")
    if not own:
        return ""
    by_target = {u.target_var.name: u for u in synapses.summed_updaters.values()
                 if u.target is synapses.target and u.target_var.owner is target_var.owner}
    total, square = by_target.get(stem + "_sum"), by_target.get(stem + "_sq")
    if total is None or square is None:
        return ""
    if sympy.expand(str_to_sympy(total.expression.code) ** 2 - str_to_sympy(square.expression.code)) != 0:
        return ""
    return get_device().get_array_name(square.target_var) if own == "sum" else "fused"


#: A statement's target: ``name =``, ``name +=``, ...
_WRITE = re.compile(r"^\s*(\w+)\s*(?:[-+*/]?=)", re.MULTILINE)


def writes_no_presynaptic(synapses, runner=None, codeobj_name=None):
    """Whether a synaptic code runner writes only synaptic and postsynaptic variables, so that
    threads that split the postsynaptic neurons never write one value.

    The runner is given, or found among the synapses' objects by its code object's name.
    """
    if runner is None:
        runners = [obj for obj in synapses.contained_objects if codeobj_name.startswith(obj.name + "_codeobject")]
        if len(runners) != 1:
            return False
        runner = runners[0]
    code = runner.abstract_code
    if not isinstance(code, str):
        return False
    return all(synapses.variables.indices.get(name, "_idx") in ("_idx", "_postsynaptic_idx")
               for name in _WRITE.findall(code))


def _templater(folder):
    """Brian2's standalone templater, with ``corinfo_sim/<folder>`` first.

    Brian2's own templates stay reachable as ``brian2/<name>``, so that a template of ours can
    extend the one it replaces.
    """
    base = CPPStandaloneCodeObject.templater
    templater = base.derive("corinfo_sim", templates_dir=folder)
    templater.env.globals.update(zero_input_gate=zero_input_gate, writes_no_presynaptic=writes_no_presynaptic,
                                 squared_partner=squared_partner, parallel_min=PARALLEL_MIN)
    templater.env.loader = ChoiceLoader([
        PackageLoader("corinfo_sim", folder),
        PrefixLoader({"brian2": base.env.loader}),
        base.env.loader,
    ])
    return templater


class GroupCodeObject(CPPStandaloneCodeObject):
    """Standalone code object of a NeuronGroup whose events are found without a branch per neuron
    (``templates/groups/threshold.cpp``) and whose state updates and operations are vectorised
    (``templates/groups/stateupdate.cpp``: the loop over neurons is declared free of dependences
    between iterations; the compiler checks at most ten pairs of arrays for overlap at run time, and
    a group updating more variables than that stayed scalar: in the spiking 784-500-10 with every
    biophysical option on, the hidden layer's state update took 13 % of the run, vectorised 2 %)."""

    templater = _templater("templates/groups")


class AllToAllCodeObject(CPPStandaloneCodeObject):
    """Standalone code object whose synapse loops are vectorised for all-to-all pathways."""

    templater = _templater("templates")


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
