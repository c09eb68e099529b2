{#
  Synapse loops of an all-to-all pathway (corinfo_sim.codegen).

  Synapse s of a complete pathway stored presynaptic-major connects pre = s / N_post to
  post = s % N_post. For such a pathway the statements generated from the equations run in a
  loop nest, presynaptic neuron outer and postsynaptic neuron inner, with the two index loads
  replaced by the loop counters: the inner loop reads and writes contiguous memory and the
  compiler vectorises it. Every synapse is visited in the same order as in the synapse-order
  loop, so the results are the same. The layout is checked whenever the number of synapses
  changes; any other layout runs the synapse-order loop.

  ``tail`` is the statement that ends the body of either loop, written with ``_pre_index``
  and ``_post_index`` for the synapse's pre- and postsynaptic neuron.
#}
{% macro synapse_loops(tail) %}
    {% set _pre_array = get_array_name(variables['_synaptic_pre']) %}
    {% set _post_array = get_array_name(variables['_synaptic_post']) %}
    const int _n_synapses = {{constant_or_scalar('N', variables['N'])}};
    const int _n_pre = {{constant_or_scalar('N_pre', variables['N_pre'])}};
    const int _n_post = {{constant_or_scalar('N_post', variables['N_post'])}};
    static int _layout_checked_for = -1;  // number of synapses at the last layout check
    static bool _all_to_all = false;
    if (_layout_checked_for != _n_synapses)
    {
        _all_to_all = _n_synapses == _n_pre * _n_post;
        for (int _s=0; _all_to_all && _s<_n_synapses; _s++)
            _all_to_all = {{_pre_array}}[_s] == _s / _n_post && {{_post_array}}[_s] == _s % _n_post;
        _layout_checked_for = _n_synapses;
    }
    if (_all_to_all)
    {
        for (int _pre=0; _pre<_n_pre; _pre++)
        {
            #pragma GCC ivdep
            for (int _post=0; _post<_n_post; _post++)
            {
                const int _idx = _pre * _n_post + _post;
                const size_t _vectorisation_idx = _idx;
                {{vector_code | join('\n') | replace(_pre_array ~ '[_idx]', '_pre') | replace(_post_array ~ '[_idx]', '_post') | autoindent}}
                {{tail | replace('_pre_index', '_pre') | replace('_post_index', '_post')}}
            }
        }
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
