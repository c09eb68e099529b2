{# On-pre code of a pathway, applied directly to the spikes of this step (or of D steps before) where possible (see all_to_all.cpp). #}
{# USES_VARIABLES { _synaptic_pre, _presynaptic_idx, _postsynaptic_idx, N, N_pre, N_post, delay, _spikespace, dt } #}
{% extends 'brian2/synapses.cpp' %}

{% block extra_headers %}
{{super()}}
{% from 'all_to_all.cpp' import headers %}
{{headers()}}
{% endblock %}

{% block maincode %}
    {% from 'all_to_all.cpp' import direct_transmission, parallel_decl, split_over_threads, row_loops with context %}
    {{direct_transmission(pathway, get_array_name(variables['dt']) ~ '[0]')}}
    if (_direct)
    {
        // scalar code
        const size_t _vectorisation_idx = -1;
        {{scalar_code|autoindent}}

        const int32_t* _spikes = {{get_array_name(variables['_spikespace'])}};
        int _n_spikes = _spikes[_num_spikespace - 1];
        if (_delay_steps > 0)
        {
            // the spikes of the last D + 1 steps, one slot per step: this step's are kept, those
            // of D steps before (none before the D-th step) are transmitted
            static std::vector<std::vector<int32_t> > _ring;
            static long long _ring_step = 0;
            if ((int)_ring.size() != _delay_steps + 1)
            {
                _ring.assign(_delay_steps + 1, std::vector<int32_t>());
                _ring_step = 0;
            }
            _ring[_ring_step % (_delay_steps + 1)].assign(_spikes, _spikes + _n_spikes);
            const std::vector<int32_t> &_due = _ring[(_ring_step + 1) % (_delay_steps + 1)];
            _ring_step++;
            _spikes = _due.empty() ? 0 : &_due[0];
            _n_spikes = (int)_due.size();
        }
        {{parallel_decl(writes_no_presynaptic(owner, runner=pathway))}}
        {% call split_over_threads() %}
            for (int _spike=0; _spike<_n_spikes; _spike++)
            {
                const int _pre = _spikes[_spike];
                {{row_loops('')}}
            }
        {% endcall %}
    }
    else
    {
        {{super()}}
    }
{% endblock %}
