{#
  Synapse loops of all-to-all pathways (corinfo_sim.codegen).

  Two layouts of a pathway's synapses are recognised, both presynaptic-major:
    1  complete: synapse s connects pre = s / N_post to post = s % N_post;
    2  complete without self-connections (N_pre = N_post = n): synapse s connects
       pre = s / (n - 1) to the (s % (n - 1))-th neuron other than pre.
  For these the statements generated from the equations run in a loop nest, presynaptic
  neuron outer and postsynaptic neuron inner, with the index loads replaced by the loop
  counters: the inner loop reads and writes contiguous memory and the compiler vectorises it.
  Synapses are visited in the same order as in the synapse-order loop, so the results are
  the same. The layout is checked whenever the number of synapses changes; any other layout
  runs the synapse-order loop.

  ``tail`` ends the loop body, written with ``_pre_index`` and ``_post_index`` for the
  synapse's pre- and postsynaptic neuron.

  Threads (OpenMP, when the binary is compiled with it and runs with more than one thread):
  a pathway of at least ``parallel_min`` synapses splits its postsynaptic neurons into one
  contiguous block per thread, and every thread visits all presynaptic neurons for its block.
  Every synapse and every postsynaptic sum sees the same operations in the same order as with
  one thread, so the results are the same whatever the number of threads.

  ``gate`` (summed variables): the array of a presynaptic variable whose value 0 makes the
  summed expression 0 (see corinfo_sim.codegen.zero_input_gate). The rows of presynaptic
  neurons where it is 0 add nothing and are skipped: adding ±0 leaves a sum that starts at +0
  unchanged, so the result is the same to the bit.
#}

{# Headers of every template that uses these loops. #}
{% macro headers() %}
#include <algorithm>
#include <cstdlib>
#ifdef _OPENMP
#include <omp.h>
#endif
{% endmacro %}

{# Defines _n_synapses, _n_pre, _n_post and _layout (0: other, 1, 2: see above). #}
{% macro layout_check() %}
    {% set _pre_array = get_array_name(variables['_presynaptic_idx']) %}
    {% set _post_array = get_array_name(variables['_postsynaptic_idx']) %}
    const int _n_synapses = {{constant_or_scalar('N', variables['N'])}};
    const int _n_pre = {{constant_or_scalar('N_pre', variables['N_pre'])}};
    const int _n_post = {{constant_or_scalar('N_post', variables['N_post'])}};
    static int _layout_checked_for = -1;  // number of synapses at the last layout check
    static int _layout = 0;
    if (_layout_checked_for != _n_synapses)
    {
        _layout_checked_for = _n_synapses;
        if (_n_synapses == _n_pre * _n_post)
            _layout = 1;
        else if (_n_pre == _n_post && _n_post > 1 && _n_synapses == _n_pre * (_n_post - 1))
            _layout = 2;
        else
            _layout = 0;
        const int _row = _layout == 1 ? _n_post : _n_post - 1;
        for (int _s=0; _layout && _s<_n_synapses; _s++)
        {
            const int _pre = _s / _row;
            const int _post = _s % _row + (_layout == 2 && _s % _row >= _pre);
            if ({{_pre_array}}[_s] != _pre || {{_post_array}}[_s] != _post)
                _layout = 0;
        }
    }
{% endmacro %}

{# Loop body of synapse _idx = idx, its statements with the index loads replaced. #}
{% macro _body(idx, code, tail) %}
            const int _idx = {{idx}};
            const size_t _vectorisation_idx = _idx;
            {{code|autoindent}}
            {{tail}}
{% endmacro %}

{#
  Whether the loops below split the postsynaptic neurons over threads (needs _layout, _n_pre,
  _n_post): never unless ``allowed`` (the code writes no presynaptic variable).
#}
{% macro parallel_decl(allowed) %}
{% if not allowed %}
    const bool _parallel = false;
{% else %}
#ifdef _OPENMP
    static const long long _parallel_min = getenv("CORINFO_PARALLEL_MIN") ? atoll(getenv("CORINFO_PARALLEL_MIN")) : {{parallel_min}};
    const bool _parallel = _layout && omp_get_max_threads() > 1 && (long long)_n_pre * _n_post >= _parallel_min;
#else
    const bool _parallel = false;
#endif
{% endif %}
{% endmacro %}

{#
  The caller's loops over the postsynaptic block [_post_begin, _post_end): all neurons, or with
  _parallel one block per thread. Without threads no parallel region is entered at all (even an
  inactive one costs a fraction of a microsecond, and some pathways run at every step).
#}
{% macro split_over_threads() %}
    auto _rows = [&](const int _post_begin, const int _post_end)
    {
        {{caller()}}
    };
#ifdef _OPENMP
    if (_parallel)
    {
        #pragma omp parallel
        {
            const long long _thread = omp_get_thread_num(), _threads = omp_get_num_threads();
            // blocks start on multiples of 16 neurons: no two threads write one cache line
            _rows(_thread == 0 ? 0 : (int)(_n_post * _thread / _threads) / 16 * 16,
                  _thread == _threads - 1 ? _n_post : (int)(_n_post * (_thread + 1) / _threads) / 16 * 16);
        }
    }
    else
#endif
        _rows(0, _n_post);
{% endmacro %}

{# The synapses from presynaptic neuron _pre to the postsynaptic block [_post_begin, _post_end), layout 1 or 2. #}
{% macro row_loops(tail) %}
    {% set _pre_array = get_array_name(variables['_presynaptic_idx']) %}
    {% set _post_array = get_array_name(variables['_postsynaptic_idx']) %}
    {% set _code = vector_code | join('\n') | replace(_pre_array ~ '[_idx]', '_pre') | replace(_post_array ~ '[_idx]', '_post') %}
    {% set _tail = tail | replace('_pre_index', '_pre') | replace('_post_index', '_post') %}
    if (_layout == 1)
    {
        #pragma GCC ivdep
        for (int _post=_post_begin; _post<_post_end; _post++)
        {
            {{_body('_pre * _n_post + _post', _code, _tail)}}
        }
    }
    else
    {
        const int _below = std::min(std::max(_pre, _post_begin), _post_end);  // end of the block's neurons < _pre
        #pragma GCC ivdep
        for (int _post=_post_begin; _post<_below; _post++)
        {
            {{_body('_pre * (_n_post - 1) + _post', _code, _tail)}}
        }
        #pragma GCC ivdep
        for (int _post=std::max(_pre + 1, _post_begin); _post<_post_end; _post++)
        {
            {{_body('_pre * (_n_post - 1) + _post - 1', _code, _tail)}}
        }
    }
{% endmacro %}

{#
  Every synapse once: row by row for layouts 1 and 2 (rows whose gate is 0 skipped; over threads when
  ``parallel``: the code writes no presynaptic variable), else in synapse order.
#}
{% macro synapse_loops(tail, parallel, gate='') %}
    {% set _pre_array = get_array_name(variables['_presynaptic_idx']) %}
    {% set _post_array = get_array_name(variables['_postsynaptic_idx']) %}
    {{layout_check()}}
    if (_layout)
    {
        {{parallel_decl(parallel)}}
        {% call split_over_threads() %}
            for (int _pre=0; _pre<_n_pre; _pre++)
            {
                {% if gate %}
                if ({{gate}}[_pre] == 0)
                    continue;  // the row adds nothing
                {% endif %}
                {{row_loops(tail)}}
            }
        {% endcall %}
    }
    else
    {
        for (int _idx=0; _idx<_n_synapses; _idx++)
        {
            const size_t _vectorisation_idx = _idx;
            {{vector_code|autoindent}}
            {{tail | replace('_pre_index', _pre_array ~ '[_idx]') | replace('_post_index', _post_array ~ '[_idx]')}}
        }
    }
{% endmacro %}

{#
  Spike transmission without the spike queue: for a presynaptic pathway (on_pre) of layout 1 or
  2, triggered by spikes of a whole group, with one delay D (in steps, 0 or more) for every
  synapse, the synapses of the neurons that spiked D steps before are applied directly (the
  spike queue would deliver exactly these, in the same order). Defines _direct and _delay_steps;
  both the push and the synapses code object use it. ``dt`` is the pathway's time step.
#}
{% macro direct_transmission(pathway, dt) %}
    {{layout_check()}}
    {% set _delays = get_array_name(variables['delay'], access_data=False) %}
    {% if pathway.prepost == 'pre' and pathway.event == 'spike' and pathway.spikes_start == 0 and pathway.spikes_stop == (pathway.source | length) %}
    static size_t _delays_checked_for = (size_t)-1;  // number of delays at the last check
    static int _delay_steps = -1;  // the delay of every synapse in steps; -1: they differ
    if (_delays_checked_for != {{_delays}}.size())
    {
        _delays_checked_for = {{_delays}}.size();
        _delay_steps = _delays_checked_for ? (int)std::lround({{_delays}}[0] / ({{dt}})) : 0;
        for (size_t _s=0; _s<_delays_checked_for; _s++)
            if ((int)std::lround({{_delays}}[_s] / ({{dt}})) != _delay_steps)
                _delay_steps = -1;
    }
    const bool _direct = _layout && _delay_steps >= 0;
    {% else %}
    const bool _direct = false;
    const int _delay_steps = -1;
    {% endif %}
{% endmacro %}
