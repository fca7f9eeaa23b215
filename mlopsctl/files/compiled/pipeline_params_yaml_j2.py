# ruff: noqa
# mypy: ignore-errors
"""templates/pipeline/params.yaml.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "3a2b6b7de83223b1a1e164a1403bac627158fc220151bdc90dd7a9e58c2f0398"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'pipeline/params.yaml.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_model = resolve('model')
    l_0_spec = resolve('spec')
    l_0_body = resolve('body')
    try:
        t_1 = environment.filters['comment']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'comment' found.")
    pass
    yield '\n# Training parameters of model '
    yield str(t_1((undefined(name='model') if l_0_model is missing else l_0_model)))
    yield ', derived from '
    yield str(t_1((undefined(name='spec') if l_0_spec is missing else l_0_spec)))
    yield ': edit the spec, not this file.\n'
    yield str((undefined(name='body') if l_0_body is missing else l_0_body))
    yield '\n'

blocks = {}
debug_info = '2=21&3=25'
