# ruff: noqa
# mypy: ignore-errors
"""templates/workflows/apply.yml.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "0e2dd4ad5ce5c06052ef0434b44c698590b8d64b38dc8495b272fa249b1f7d8a"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'workflows/apply.yml.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_ci = resolve('ci')
    l_0_models = resolve('models')
    l_0_ghcr = resolve('ghcr')
    l_0_model_targets = resolve('model_targets')
    l_0_gh = l_0_checkout = l_0_setup_python = l_0_install = l_0_dvc_pull = l_0_remote_env = l_0_credentials = l_0_git_identity = l_0_push_tags = l_0_record_outputs = l_0_upload_records = l_0_merge_records = l_0_apply_steps = missing
    try:
        t_1 = environment.filters['comment']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'comment' found.")
    try:
        t_2 = environment.filters['gh_branch']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'gh_branch' found.")
    try:
        t_3 = environment.filters['gha']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No filter named 'gha' found.")
    try:
        t_4 = environment.filters['length']
    except KeyError:
        @internalcode
        def t_4(*unused):
            raise TemplateRuntimeError("No filter named 'length' found.")
    try:
        t_5 = environment.filters['list']
    except KeyError:
        @internalcode
        def t_5(*unused):
            raise TemplateRuntimeError("No filter named 'list' found.")
    try:
        t_6 = environment.filters['map']
    except KeyError:
        @internalcode
        def t_6(*unused):
            raise TemplateRuntimeError("No filter named 'map' found.")
    pass
    included_template = environment.get_template('workflows/_common.j2', 'workflows/apply.yml.j2')._get_default_module(context)
    l_0_gh = getattr(included_template, 'gh', missing)
    if l_0_gh is missing:
        l_0_gh = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'gh'", name='gh')
    l_0_checkout = getattr(included_template, 'checkout', missing)
    if l_0_checkout is missing:
        l_0_checkout = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'checkout'", name='checkout')
    l_0_setup_python = getattr(included_template, 'setup_python', missing)
    if l_0_setup_python is missing:
        l_0_setup_python = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'setup_python'", name='setup_python')
    l_0_install = getattr(included_template, 'install', missing)
    if l_0_install is missing:
        l_0_install = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'install'", name='install')
    l_0_dvc_pull = getattr(included_template, 'dvc_pull', missing)
    if l_0_dvc_pull is missing:
        l_0_dvc_pull = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'dvc_pull'", name='dvc_pull')
    l_0_remote_env = getattr(included_template, 'remote_env', missing)
    if l_0_remote_env is missing:
        l_0_remote_env = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'remote_env'", name='remote_env')
    l_0_credentials = getattr(included_template, 'credentials', missing)
    if l_0_credentials is missing:
        l_0_credentials = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'credentials'", name='credentials')
    l_0_git_identity = getattr(included_template, 'git_identity', missing)
    if l_0_git_identity is missing:
        l_0_git_identity = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'git_identity'", name='git_identity')
    l_0_push_tags = getattr(included_template, 'push_tags', missing)
    if l_0_push_tags is missing:
        l_0_push_tags = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'push_tags'", name='push_tags')
    l_0_record_outputs = getattr(included_template, 'record_outputs', missing)
    if l_0_record_outputs is missing:
        l_0_record_outputs = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'record_outputs'", name='record_outputs')
    l_0_upload_records = getattr(included_template, 'upload_records', missing)
    if l_0_upload_records is missing:
        l_0_upload_records = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'upload_records'", name='upload_records')
    l_0_merge_records = getattr(included_template, 'merge_records', missing)
    if l_0_merge_records is missing:
        l_0_merge_records = undefined(f"the template {included_template.__name__!r} (imported on line 1 in 'workflows/apply.yml.j2') does not export the requested name 'merge_records'", name='merge_records')
    context.vars.update({'gh': l_0_gh, 'checkout': l_0_checkout, 'setup_python': l_0_setup_python, 'install': l_0_install, 'dvc_pull': l_0_dvc_pull, 'remote_env': l_0_remote_env, 'credentials': l_0_credentials, 'git_identity': l_0_git_identity, 'push_tags': l_0_push_tags, 'record_outputs': l_0_record_outputs, 'upload_records': l_0_upload_records, 'merge_records': l_0_merge_records})
    context.exported_vars.difference_update(('gh', 'checkout', 'setup_python', 'install', 'dvc_pull', 'remote_env', 'credentials', 'git_identity', 'push_tags', 'record_outputs', 'upload_records', 'merge_records'))
    def macro(l_1_targets, l_1_role):
        t_7 = []
        l_1_actions = resolve('actions')
        l_1_remote = resolve('remote')
        if l_1_targets is missing:
            l_1_targets = undefined("parameter 'targets' was not provided", name='targets')
        if l_1_role is missing:
            l_1_role = undefined("parameter 'role' was not provided", name='role')
        pass
        t_7.extend((
            str(environment.call(context, (undefined(name='checkout') if l_0_checkout is missing else l_0_checkout), (undefined(name='actions') if l_1_actions is missing else l_1_actions), 0)),
            str(environment.call(context, (undefined(name='setup_python') if l_0_setup_python is missing else l_0_setup_python), (undefined(name='ci') if l_0_ci is missing else l_0_ci), (undefined(name='actions') if l_1_actions is missing else l_1_actions), cache=False)),
            str(environment.call(context, (undefined(name='install') if l_0_install is missing else l_0_install), (undefined(name='ci') if l_0_ci is missing else l_0_ci), (undefined(name='remote') if l_1_remote is missing else l_1_remote))),
            str(environment.call(context, (undefined(name='git_identity') if l_0_git_identity is missing else l_0_git_identity))),
        ))
        if (l_1_role == 'project'):
            pass
            t_7.append(
                str(environment.call(context, (undefined(name='merge_records') if l_0_merge_records is missing else l_0_merge_records), (undefined(name='actions') if l_1_actions is missing else l_1_actions))),
            )
        t_7.append(
            str(environment.call(context, (undefined(name='dvc_pull') if l_0_dvc_pull is missing else l_0_dvc_pull), (undefined(name='remote') if l_1_remote is missing else l_1_remote))),
        )
        if (undefined(name='ghcr') if l_0_ghcr is missing else l_0_ghcr):
            pass
            t_7.extend((
                '\n      - name: Log in to ghcr.io (images are pushed there)\n        env:\n          GITHUB_TOKEN: ',
                str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.token')),
                '\n        run: echo "$GITHUB_TOKEN" | docker login ghcr.io -u "$GITHUB_ACTOR" --password-stdin',
            ))
        t_7.append(
            '\n      - name: Apply',
        )
        if (l_1_targets or environment.getattr((undefined(name='remote') if l_1_remote is missing else l_1_remote), 'env')):
            pass
            t_7.append(
                '\n        env:',
            )
            if l_1_targets:
                pass
                t_7.extend((
                    '\n          MODEL: ',
                    str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'matrix.model')),
                ))
            t_7.append(
                str(environment.call(context, (undefined(name='remote_env') if l_0_remote_env is missing else l_0_remote_env), (undefined(name='remote') if l_1_remote is missing else l_1_remote))),
            )
        t_7.extend((
            '\n        run: |',
            str(environment.call(context, (undefined(name='credentials') if l_0_credentials is missing else l_0_credentials), (undefined(name='remote') if l_1_remote is missing else l_1_remote))),
            '\n          mlopsctl apply --auto-approve',
        ))
        for l_2_t in l_1_targets:
            _loop_vars = {}
            pass
            t_7.extend((
                ' --target "',
                str(l_2_t),
                '.${MODEL}"',
            ))
        l_2_t = missing
        t_7.append(
            str(environment.call(context, (undefined(name='push_tags') if l_0_push_tags is missing else l_0_push_tags))),
        )
        if (l_1_role == 'model'):
            pass
            t_7.append(
                str(environment.call(context, (undefined(name='upload_records') if l_0_upload_records is missing else l_0_upload_records), (undefined(name='actions') if l_1_actions is missing else l_1_actions))),
            )
        else:
            pass
            t_7.append(
                str(environment.call(context, (undefined(name='record_outputs') if l_0_record_outputs is missing else l_0_record_outputs), (undefined(name='ci') if l_0_ci is missing else l_0_ci))),
            )
        return concat(t_7)
    context.exported_vars.add('apply_steps')
    context.vars['apply_steps'] = l_0_apply_steps = Macro(environment, macro, 'apply_steps', ('targets', 'role'), False, False, False, context.eval_ctx.autoescape)
    yield '# Delivery: on every push to '
    yield str(t_1(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'default_branch')))
    yield ', make reality match the specs.\nname: mlops apply\n\non:\n  push:\n    branches: ['
    yield str(t_2(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'default_branch')))
    yield ']\n  workflow_dispatch:\n\n# Nothing by default; each job asks for exactly what it needs.\npermissions: {}\n\n# Two applies never overlap: a newer push waits for the running apply, it never cancels it.\nconcurrency:\n  group: mlops-apply\n  cancel-in-progress: false\n\njobs:'
    if (t_4((undefined(name='models') if l_0_models is missing else l_0_models)) > 1):
        pass
        yield '\n  model:\n    name: Apply model '
        yield str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'matrix.model'))
        yield '\n    runs-on: '
        yield str(t_3(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'runs_on')))
        yield "\n    timeout-minutes: 120\n    permissions:\n      contents: write # push the registry's Git tags (versions and stage assignments)"
        if (undefined(name='ghcr') if l_0_ghcr is missing else l_0_ghcr):
            pass
            yield '\n      packages: write # push the serving images to ghcr.io'
        yield '\n    strategy:\n      fail-fast: false\n      matrix:\n        model: '
        yield str(t_3(t_5(context.eval_ctx, t_6(context, (undefined(name='models') if l_0_models is missing else l_0_models), attribute='name'))))
        yield '\n    steps:'
        yield str(environment.call(context, (undefined(name='apply_steps') if l_0_apply_steps is missing else l_0_apply_steps), (undefined(name='model_targets') if l_0_model_targets is missing else l_0_model_targets), 'model'))
        yield '\n\n  project:\n    name: Apply project-wide resources and removals\n    needs: model\n    runs-on: '
        yield str(t_3(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'runs_on')))
        yield "\n    timeout-minutes: 120\n    permissions:\n      contents: write # push the registry's Git tags and the training records"
        if (undefined(name='ghcr') if l_0_ghcr is missing else l_0_ghcr):
            pass
            yield '\n      packages: write # push the serving images to ghcr.io'
        yield '\n    steps:'
        yield str(environment.call(context, (undefined(name='apply_steps') if l_0_apply_steps is missing else l_0_apply_steps), [], 'project'))
    else:
        pass
        yield '\n  apply:\n    name: Apply\n    runs-on: '
        yield str(t_3(environment.getattr((undefined(name='ci') if l_0_ci is missing else l_0_ci), 'runs_on')))
        yield "\n    timeout-minutes: 120\n    permissions:\n      contents: write # push the registry's Git tags and the training records"
        if (undefined(name='ghcr') if l_0_ghcr is missing else l_0_ghcr):
            pass
            yield '\n      packages: write # push the serving images to ghcr.io'
        yield '\n    steps:'
        yield str(environment.call(context, (undefined(name='apply_steps') if l_0_apply_steps is missing else l_0_apply_steps), [], 'single'))
    yield '\n'

blocks = {}
debug_info = '1=52&4=91&5=101&8=102&9=103&10=104&11=106&12=109&15=112&16=114&19=118&23=124&25=129&26=133&28=136&31=140&32=143&33=153&34=155&35=158&37=163&40=169&45=171&57=173&59=176&60=178&64=180&70=184&72=186&77=188&81=190&85=194&89=198&93=200&97=204'
