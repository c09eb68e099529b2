{# On-pre code of a pathway, applied directly to the spikes of this step where possible (see all_to_all.cpp). #}
{# USES_VARIABLES { _synaptic_pre, _presynaptic_idx, _postsynaptic_idx, N, N_pre, N_post, delay, _spikespace } #}
{% extends 'brian2/synapses.cpp' %}

{% block extra_headers %}
{{super()}}
{% from 'all_to_all.cpp' import headers %}
{{headers()}}
{% endblock %}

{% block maincode %}
    {% from 'all_to_all.cpp' import direct_transmission, parallel_decl, split_over_threads, row_loops with context %}
    {{direct_transmission(pathway)}}
    if (_direct)
    {
        // scalar code
        const size_t _vectorisation_idx = -1;
        {{scalar_code|autoindent}}

        const int32_t* _spikes = {{get_array_name(variables['_spikespace'])}};
        const int _n_spikes = _spikes[_num_spikespace - 1];
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
