# ruff: noqa
# mypy: ignore-errors
"""templates/scaffold/_common/README.md.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "db5cc1a436c4de0d74a9a1628a42777bc3097b350428f9654e2d27a72d7ea3dc"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'scaffold/_common/README.md.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_project = resolve('project')
    l_0_template = resolve('template')
    l_0_model = resolve('model')
    l_0_ports = resolve('ports')
    l_0_description = resolve('description')
    l_0_data_path = resolve('data_path')
    l_0_source = resolve('source')
    l_0_target = resolve('target')
    l_0_remote_url = resolve('remote_url')
    try:
        t_1 = environment.filters['lower']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'lower' found.")
    pass
    yield '# '
    yield str((undefined(name='project') if l_0_project is missing else l_0_project))
    yield '\n\nA machine-learning system kept in Git and run by mlopsctl:\nthe YAML specs say what should exist, `mlopsctl plan` shows what has to change and why, and\n`mlopsctl apply` makes it so. Running apply again changes nothing.\n\nCreated by `mlopsctl new --template '
    yield str((undefined(name='template') if l_0_template is missing else l_0_template))
    yield ' --name '
    yield str((undefined(name='model') if l_0_model is missing else l_0_model))
    yield '`.\n\n## What is here\n\n| Path | What it is |\n| --- | --- |\n| `mlops.yaml` | The project: environments (staging on port '
    yield str(environment.getattr((undefined(name='ports') if l_0_ports is missing else l_0_ports), 'staging'))
    yield ', production on '
    yield str(environment.getattr((undefined(name='ports') if l_0_ports is missing else l_0_ports), 'production'))
    yield '), the DVC remote, the model registry, CI settings. |\n| `models/'
    yield str((undefined(name='model') if l_0_model is missing else l_0_model))
    yield '.yaml` | The `'
    yield str((undefined(name='model') if l_0_model is missing else l_0_model))
    yield '` model ('
    yield str(t_1((undefined(name='description') if l_0_description is missing else l_0_description)))
    yield '): its data and data contract, estimator, evaluation, gates, which version each environment serves, drift monitoring. |\n| `'
    yield str((undefined(name='data_path') if l_0_data_path is missing else l_0_data_path))
    yield '` | The training data: '
    yield str((undefined(name='source') if l_0_source is missing else l_0_source))
    yield ', target column `'
    yield str((undefined(name='target') if l_0_target is missing else l_0_target))
    yield '`. Tracked by DVC, not by Git (see `data/.gitignore`). |\n\nFiles that mlopsctl writes on apply (`dvc.yaml`, `params/`, `docker/`, `.github/workflows/mlops-*.yml`)\ncarry a header saying so; edit the specs, not those files.\n\n## Use it\n\n```sh\nmlopsctl plan      # what apply would do, and why\nmlopsctl apply     # track the data, train, check the gates, register a version, build and serve it\nmlopsctl plan      # run again: no changes\n```\n\nBuilding images and serving them needs a Docker engine; without one, apply stops at those steps and says so.\nThe DVC remote is the folder `'
    yield str((undefined(name='remote_url') if l_0_remote_url is missing else l_0_remote_url))
    yield '` (relative to this repository).\n\n## Change it\n\n- **Retrain with other settings**: edit `estimator.params` in `models/'
    yield str((undefined(name='model') if l_0_model is missing else l_0_model))
    yield '.yaml`; the plan shows\n  the retrain and the new candidate, which is registered only if it passes its `gates`.\n- **New data**: replace `'
    yield str((undefined(name='data_path') if l_0_data_path is missing else l_0_data_path))
    yield '`; the plan shows the changed dataset and everything downstream.\n- **Promote to production**: add `production: {version: N}` under `serve:` naming a registered\n  version (`mlopsctl models` lists them). Rolling back is the same edit with an older number.\n'

blocks = {}
debug_info = '1=27&7=29&13=33&14=37&15=43&29=49&33=51&35=53'
