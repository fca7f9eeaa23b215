# ruff: noqa
# mypy: ignore-errors
"""templates/scaffold/_common/mlops.yaml.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "2b5567245cc121342360553895fe81395198324e61be622df5f47661c681e38e"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'scaffold/_common/mlops.yaml.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_project_yaml = resolve('project_yaml')
    l_0_ports = resolve('ports')
    l_0_remote_url = resolve('remote_url')
    l_0_base_image = resolve('base_image')
    l_0_version = resolve('version')
    try:
        t_1 = environment.filters['yaml_quote']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'yaml_quote' found.")
    pass
    yield '# The project: environments, where data and models are kept, how CI runs mlopsctl.\n# `mlopsctl plan` shows what apply would change; `mlopsctl validate` checks this file.\napiVersion: mlopsctl/v1\nkind: Project\nname: '
    yield str((undefined(name='project_yaml') if l_0_project_yaml is missing else l_0_project_yaml))
    yield '\nenvironments:\n  # Each environment serves a model version on 127.0.0.1:<port> (see serve: in models/*.yaml).\n  staging: {port: '
    yield str(environment.getattr((undefined(name='ports') if l_0_ports is missing else l_0_ports), 'staging'))
    yield '}\n  production: {port: '
    yield str(environment.getattr((undefined(name='ports') if l_0_ports is missing else l_0_ports), 'production'))
    yield '}\ndata:\n  # DVC remote for datasets and model artifacts; a local folder beside this repository works\n  # offline. Any DVC remote URL (s3://..., gs://...) works too.\n  remote: {name: local, url: '
    yield str(t_1((undefined(name='remote_url') if l_0_remote_url is missing else l_0_remote_url)))
    yield "}\nregistry: {type: git}  # model versions and stage assignments are Git tags (GTO's grammar)\nimages:\n  base: "
    yield str((undefined(name='base_image') if l_0_base_image is missing else l_0_base_image))
    yield '  # the serving images\' base; any image with Python 3 and pip\nci:\n  python: "3.11"\n  # What the workflows pip install: the release this project was made with (mlopsctl\'s release\n  # workflow publishes every version to PyPI), or a Git ref or wheel URL, e.g.\n  # "git+https://github.com/ORG/mlopsctl@vX.Y.Z" or "https://HOST/mlopsctl-X.Y.Z-py3-none-any.whl".\n  install: '
    yield str(t_1(str_join(('mlopsctl==', (undefined(name='version') if l_0_version is missing else l_0_version), ))))
    yield '\n  default_branch: main\n'

blocks = {}
debug_info = '5=23&8=25&9=27&13=29&16=31&22=33'
