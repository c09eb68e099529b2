{# Summed variable of a pathway, vectorised for all-to-all pathways (see all_to_all.cpp). #}
{# USES_VARIABLES { N, N_pre, N_post, _presynaptic_idx, _postsynaptic_idx } #}
{% extends 'brian2/summed_variable.cpp' %}

{% block extra_headers %}
{% from 'all_to_all.cpp' import headers %}
{{headers()}}
{% endblock %}

{% block maincode %}
    {% from 'all_to_all.cpp' import synapse_loops with context %}
    {% set _target_var_array = get_array_name(_target_var) %}
    {% set _target_index = '_post_index' if _index_var is sameas variables['_postsynaptic_idx'] else '_pre_index' %}
    {% set _square = squared_partner(owner, _target_var) if _target_index == '_post_index' else '' %}
    //// MAIN CODE ////////////
    {% if _square == 'fused' %}
    // summed in the loop of its partner, the sum of the terms (corinfo_sim.codegen.squared_partner)
    {% else %}
    const int _target_size = {{constant_or_scalar(_target_size_name, variables[_target_size_name])}};
    for (int _target_idx=0; _target_idx<_target_size; _target_idx++)
    {
        {{_target_var_array}}[_target_idx + {{_target_start}}] = 0;
        {% if _square %}
        {{_square}}[_target_idx + {{_target_start}}] = 0;  // the sum of the squares of the terms, filled below
        {% endif %}
    }

    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {% set _tail = _target_var_array ~ '[' ~ _target_index ~ '] += _synaptic_var;' %}
    {% if _square %}
    {% set _tail = _tail ~ '\n' ~ _square ~ '[' ~ _target_index ~ '] += _synaptic_var*_synaptic_var;' %}
    {% endif %}
    {{synapse_loops(_tail, parallel=_target_index == '_post_index',
                    gate=zero_input_gate(owner, _target_var, variables, get_array_name))}}
    {% endif %}
{% endblock %}
