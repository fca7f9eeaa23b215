# ruff: noqa
# mypy: ignore-errors
"""templates/docker/requirements.txt.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "8b38f9e2727f76511b2a8135f610ccc614f04280f188ad058dd35be28865f3ed"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'docker/requirements.txt.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_model = resolve('model')
    try:
        t_1 = environment.filters['comment']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'comment' found.")
    pass
    yield '# The serving stack of model "'
    yield str(t_1((undefined(name='model') if l_0_model is missing else l_0_model)))
    yield '", installed in its image only (not an mlopsctl\n# dependency). Pinned so rebuilding an image gives the same server; scikit-learn and its\n# numeric stack are pinned per model version in requirements-model.txt at build time.\nstarlette==1.10.0\nuvicorn==0.54.0\nprometheus-client==0.26.0\n'

blocks = {}
debug_info = '1=19'
