{# State updates and run_regularly operations of a group, vectorised (corinfo_sim.codegen). #}
{# USES_VARIABLES { N } #}
{# ALLOWS_SCALAR_WRITE #}
{% extends 'brian2/stateupdate.cpp' %}

{% block maincode %}
    //// MAIN CODE ////////////
    // scalar code
    const size_t _vectorisation_idx = -1;
    {{scalar_code|autoindent}}

    const int _N = {{constant_or_scalar('N', variables['N'])}};
    {% set parallel = openmp_pragma('parallel-static') %}
    {% if parallel %}
    {{parallel}}
    {% else %}
    // every iteration reads and writes the variables of its own neuron only: no dependence
    // between iterations (without this, a loop over more arrays than the compiler checks for
    // overlap at run time stays scalar)
    #pragma GCC ivdep
    {% endif %}
    for(int _idx=0; _idx<_N; _idx++)
    {
        // vector code
        const size_t _vectorisation_idx = _idx;
        {{vector_code|autoindent}}
    }
{% endblock %}
