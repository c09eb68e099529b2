{# Events of a group (threshold, custom events) without a branch per neuron (corinfo_sim.codegen). #}
{# USES_VARIABLES { N } #}
{% extends 'brian2/threshold.cpp' %}

{% block maincode %}
    {% if _uses_refractory %}
    {{super()}}
    {% else %}
    //// MAIN CODE ////////////
    // scalar code
    const int _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    {% set _eventspace = get_array_name(eventspace_variable) %}
    // every neuron's index is written at the next free place, which only an event keeps: no
    // branch to mispredict when events are irregular (the array has N + 1 places)
    long _count = 0;
    for(size_t _idx=0; _idx<N; _idx++)
    {
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
        {{_eventspace}}[_count] = _idx;
        _count += _cond ? 1 : 0;
    }
    {{_eventspace}}[N] = _count;
    {% endif %}
{% endblock %}
