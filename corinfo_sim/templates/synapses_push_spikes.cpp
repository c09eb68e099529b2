{# Spike queue of a pathway, unused when the pathway transmits directly (see all_to_all.cpp). #}
{# USES_VARIABLES { _n_sources, _n_targets, delay, _source_dt, N, N_pre, N_post, _presynaptic_idx, _postsynaptic_idx } #}
{% extends 'brian2/synapses_push_spikes.cpp' %}

{% block maincode %}
    {% from 'all_to_all.cpp' import direct_transmission with context %}
    {{direct_transmission(owner, _source_dt)}}
    if (!_direct)
    {
        {{super()}}
    }
{% endblock %}
