{# Per-synapse code (run_regularly, state update), vectorised for all-to-all pathways (see all_to_all.cpp). #}
{# USES_VARIABLES { N, N_pre, N_post, _synaptic_pre, _synaptic_post } #}
{# ALLOWS_SCALAR_WRITE #}
{% extends 'common_group.cpp' %}
{% block maincode %}
    {% from 'all_to_all.cpp' import synapse_loops with context %}
    //// MAIN CODE ////////////
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {{synapse_loops('')}}
{% endblock %}
