{# Per-synapse code (run_regularly, state update), vectorised for all-to-all pathways (see all_to_all.cpp). #}
{# USES_VARIABLES { N, N_pre, N_post, _presynaptic_idx, _postsynaptic_idx } #}
{# ALLOWS_SCALAR_WRITE #}
{% extends 'brian2/stateupdate.cpp' %}

{% block extra_headers %}
{% from 'all_to_all.cpp' import headers %}
{{headers()}}
{% endblock %}

{% block maincode %}
    {% from 'all_to_all.cpp' import synapse_loops with context %}
    //// MAIN CODE ////////////
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {{synapse_loops('', parallel=writes_no_presynaptic(owner, codeobj_name=codeobj_name))}}
{% endblock %}
