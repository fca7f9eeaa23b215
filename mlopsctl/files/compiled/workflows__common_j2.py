# ruff: noqa
# mypy: ignore-errors
"""templates/workflows/_common.j2 compiled by Jinja 3.1.6 (see mlopsctl.files.compiled).

Written by scripts/make_generated.py from templates/: never edit it by hand.
"""

COMPILED_FROM = "d4055c37316fea54a5fcbaac9902f0d7f9f47aeab9758d46e33f5ba32e42b410"
"""The key of what this was compiled from (templating.compile_key); under any other it is not used."""

from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'workflows/_common.j2'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_gh = l_0_checkout = l_0_setup_python = l_0_install = l_0_remote_env = l_0_credentials = l_0_dvc_cache = l_0_dvc_pull = l_0_git_identity = l_0_push_tags = l_0_record_paths = l_0_stage_records = l_0_record_outputs = l_0_upload_records = l_0_merge_records = missing
    try:
        t_1 = environment.filters['comment']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'comment' found.")
    try:
        t_2 = environment.filters['gha']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'gha' found.")
    pass
    def macro(l_1_expr):
        t_3 = []
        if l_1_expr is missing:
            l_1_expr = undefined("parameter 'expr' was not provided", name='expr')
        pass
        t_3.extend((
            '${{ ',
            str(l_1_expr),
            ' }}',
        ))
        return concat(t_3)
    context.exported_vars.add('gh')
    context.vars['gh'] = l_0_gh = Macro(environment, macro, 'gh', ('expr',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_actions, l_1_fetch_depth):
        t_4 = []
        if l_1_actions is missing:
            l_1_actions = undefined("parameter 'actions' was not provided", name='actions')
        if l_1_fetch_depth is missing:
            l_1_fetch_depth = 1
        pass
        t_4.extend((
            '\n      - name: Check out the repository\n        uses: ',
            str(environment.getattr(l_1_actions, 'checkout')),
            '\n        with:\n          persist-credentials: false',
        ))
        if (l_1_fetch_depth != 1):
            pass
            t_4.extend((
                '\n          fetch-depth: ',
                str(l_1_fetch_depth),
            ))
        return concat(t_4)
    context.exported_vars.add('checkout')
    context.vars['checkout'] = l_0_checkout = Macro(environment, macro, 'checkout', ('actions', 'fetch_depth'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_ci, l_1_actions, l_1_cache):
        t_5 = []
        if l_1_ci is missing:
            l_1_ci = undefined("parameter 'ci' was not provided", name='ci')
        if l_1_actions is missing:
            l_1_actions = undefined("parameter 'actions' was not provided", name='actions')
        if l_1_cache is missing:
            l_1_cache = True
        pass
        t_5.extend((
            '\n      - name: Set up Python\n        uses: ',
            str(environment.getattr(l_1_actions, 'setup_python')),
            '\n        with:\n          python-version: ',
            str(t_2(environment.getattr(l_1_ci, 'python'))),
        ))
        if l_1_cache:
            pass
            t_5.append(
                '\n          cache: pip\n          # mlops.yaml pins the mlopsctl version (ci.install): a new pin gets a fresh cache.\n          cache-dependency-path: mlops.yaml',
            )
        return concat(t_5)
    context.exported_vars.add('setup_python')
    context.vars['setup_python'] = l_0_setup_python = Macro(environment, macro, 'setup_python', ('ci', 'actions', 'cache'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_ci, l_1_remote, l_1_minimal):
        t_6 = []
        if l_1_ci is missing:
            l_1_ci = undefined("parameter 'ci' was not provided", name='ci')
        if l_1_remote is missing:
            l_1_remote = undefined("parameter 'remote' was not provided", name='remote')
        if l_1_minimal is missing:
            l_1_minimal = False
        pass
        t_6.extend((
            '\n      - name: Install mlopsctl\n        env:\n          MLOPSCTL_INSTALL: ',
            str(t_2(environment.getattr(l_1_ci, 'install'))),
        ))
        if l_1_minimal:
            pass
            t_6.append(
                '\n        # Posting the comment needs only the CLI itself, not the ML stack.\n        run: python -m pip install --no-deps "$MLOPSCTL_INSTALL" "click>=8.1"',
            )
        elif environment.getattr(l_1_remote, 'pip_extra'):
            pass
            t_6.extend((
                '\n          DVC_EXTRA: ',
                str(t_2(environment.getattr(l_1_remote, 'pip_extra'))),
                '\n        run: python -m pip install "$MLOPSCTL_INSTALL" "$DVC_EXTRA"',
            ))
        else:
            pass
            t_6.append(
                '\n        run: python -m pip install "$MLOPSCTL_INSTALL"',
            )
        return concat(t_6)
    context.exported_vars.add('install')
    context.vars['install'] = l_0_install = Macro(environment, macro, 'install', ('ci', 'remote', 'minimal'), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_remote):
        t_7 = []
        if l_1_remote is missing:
            l_1_remote = undefined("parameter 'remote' was not provided", name='remote')
        pass
        for l_2_var in environment.getattr(l_1_remote, 'env'):
            _loop_vars = {}
            pass
            t_7.extend((
                '\n          ',
                str(environment.getattr(l_2_var, 'name')),
                ': ',
                str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), str_join(('secrets.', environment.getattr(l_2_var, 'secret'), )), _loop_vars=_loop_vars)),
            ))
        l_2_var = missing
        return concat(t_7)
    context.exported_vars.add('remote_env')
    context.vars['remote_env'] = l_0_remote_env = Macro(environment, macro, 'remote_env', ('remote',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_remote):
        t_8 = []
        if l_1_remote is missing:
            l_1_remote = undefined("parameter 'remote' was not provided", name='remote')
        pass
        if environment.getattr(l_1_remote, 'credentials_file'):
            pass
            t_8.extend((
                '\n          printf \'%s\' "$',
                str(environment.getattr(environment.getattr(l_1_remote, 'credentials_file'), 'secret_env')),
                '" > "$RUNNER_TEMP/',
                str(environment.getattr(environment.getattr(l_1_remote, 'credentials_file'), 'name')),
                '"\n          export ',
                str(environment.getattr(environment.getattr(l_1_remote, 'credentials_file'), 'var')),
                '="$RUNNER_TEMP/',
                str(environment.getattr(environment.getattr(l_1_remote, 'credentials_file'), 'name')),
                '"',
            ))
        return concat(t_8)
    context.exported_vars.add('credentials')
    context.vars['credentials'] = l_0_credentials = Macro(environment, macro, 'credentials', ('remote',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_actions):
        t_9 = []
        if l_1_actions is missing:
            l_1_actions = undefined("parameter 'actions' was not provided", name='actions')
        pass
        t_9.extend((
            '\n      - name: Cache the DVC cache\n        uses: ',
            str(environment.getattr(l_1_actions, 'cache')),
            '\n        with:\n          path: .dvc/cache\n          key: dvc-',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'runner.os')),
            '-',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), "hashFiles('**/*.dvc', '**/dvc.lock')")),
            '\n          restore-keys: |\n            dvc-',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'runner.os')),
            '-',
        ))
        return concat(t_9)
    context.exported_vars.add('dvc_cache')
    context.vars['dvc_cache'] = l_0_dvc_cache = Macro(environment, macro, 'dvc_cache', ('actions',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_remote, l_1_pr):
        t_10 = []
        if l_1_remote is missing:
            l_1_remote = undefined("parameter 'remote' was not provided", name='remote')
        if l_1_pr is missing:
            l_1_pr = False
        pass
        if environment.getattr(l_1_remote, 'local'):
            pass
            t_10.extend((
                '\n      - name: Data remote\n        # The DVC remote in mlops.yaml is a folder on one machine (',
                str(t_1(environment.getattr(l_1_remote, 'url'))),
                ');\n        # a hosted runner cannot reach it. Use an S3, GCS or Azure remote for CI.\n        run: echo "::warning title=mlopsctl::the DVC remote is a local folder; CI runs without pulling data"',
            ))
        elif l_1_pr:
            pass
            t_10.append(
                "\n      - name: Pull data and DVC's run cache from the DVC remote\n        # The run cache lets `plan --train` restore a stage trained before instead of retraining it.\n        # A pull request from a fork gets no secrets: the plan then says what it could not compute.",
            )
            if environment.getattr(l_1_remote, 'env'):
                pass
                t_10.extend((
                    '\n        env:',
                    str(environment.call(context, (undefined(name='remote_env') if l_0_remote_env is missing else l_0_remote_env), l_1_remote)),
                ))
            t_10.extend((
                '\n        run: |',
                str(environment.call(context, (undefined(name='credentials') if l_0_credentials is missing else l_0_credentials), l_1_remote)),
                '\n          if [ -d .dvc ] && ! dvc pull --allow-missing --run-cache; then\n            echo "::warning title=mlopsctl::could not pull from the DVC remote (no credentials? pull requests from forks get no secrets): candidate metrics cannot be computed"\n          fi',
            ))
        else:
            pass
            t_10.append(
                '\n      - name: Pull data from the DVC remote',
            )
            if environment.getattr(l_1_remote, 'env'):
                pass
                t_10.extend((
                    '\n        env:',
                    str(environment.call(context, (undefined(name='remote_env') if l_0_remote_env is missing else l_0_remote_env), l_1_remote)),
                ))
            t_10.extend((
                '\n        run: |',
                str(environment.call(context, (undefined(name='credentials') if l_0_credentials is missing else l_0_credentials), l_1_remote)),
                '\n          if [ -d .dvc ]; then dvc pull --allow-missing; fi',
            ))
        return concat(t_10)
    context.exported_vars.add('dvc_pull')
    context.vars['dvc_pull'] = l_0_dvc_pull = Macro(environment, macro, 'dvc_pull', ('remote', 'pr'), False, False, False, context.eval_ctx.autoescape)
    def macro():
        t_11 = []
        pass
        t_11.append(
            '\n      - name: Set the Git identity for registry tags and training records\n        run: |\n          git config user.name "github-actions[bot]"\n          git config user.email "41898282+github-actions[bot]@users.noreply.github.com"',
        )
        return concat(t_11)
    context.exported_vars.add('git_identity')
    context.vars['git_identity'] = l_0_git_identity = Macro(environment, macro, 'git_identity', (), False, False, False, context.eval_ctx.autoescape)
    def macro():
        t_12 = []
        pass
        t_12.extend((
            '\n      - name: Publish the registry tags and the audit records\n        # Only the push steps see a token that can write (persist-credentials is off). The audit\n        # records (refs/notes/mlopsctl) of concurrent runs are merged line by line before the push;\n        # it runs even when apply failed or refused, so that record is kept too.\n        if: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), '!cancelled()')),
            '\n        env:\n          GITHUB_TOKEN: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.token')),
            '\n          SERVER_URL: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.server_url')),
            '\n        run: |\n          auth="$(printf \'x-access-token:%s\' "$GITHUB_TOKEN" | base64 | tr -d \'\\n\')"\n          git -c "http.${SERVER_URL}/.extraheader=AUTHORIZATION: basic ${auth}" push origin --tags\n          for attempt in 1 2 3; do\n            if git -c "http.${SERVER_URL}/.extraheader=AUTHORIZATION: basic ${auth}" \\\n                fetch -q origin "+refs/notes/mlopsctl:refs/notes/mlopsctl-origin" 2>/dev/null; then\n              git notes --ref=refs/notes/mlopsctl merge -q -s cat_sort_uniq refs/notes/mlopsctl-origin\n            fi\n            if ! git rev-parse -q --verify refs/notes/mlopsctl >/dev/null; then break; fi\n            if git -c "http.${SERVER_URL}/.extraheader=AUTHORIZATION: basic ${auth}" \\\n                push -q origin refs/notes/mlopsctl; then break; fi\n            if [ "$attempt" = 3 ]; then\n              echo "::warning title=mlopsctl::could not publish the audit records (refs/notes/mlopsctl)"\n            fi\n          done',
        ))
        return concat(t_12)
    context.exported_vars.add('push_tags')
    context.vars['push_tags'] = l_0_push_tags = Macro(environment, macro, 'push_tags', (), False, False, False, context.eval_ctx.autoescape)
    def macro():
        t_13 = []
        pass
        t_13.append(
            "dvc.lock ':(glob)**/*.dvc' ':(glob)reports/**'",
        )
        return concat(t_13)
    context.exported_vars.add('record_paths')
    context.vars['record_paths'] = l_0_record_paths = Macro(environment, macro, 'record_paths', (), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_everything):
        t_14 = []
        if l_1_everything is missing:
            l_1_everything = False
        pass
        t_14.append(
            '\n          export GIT_INDEX_FILE="$RUNNER_TEMP/mlops-record.index"\n          git read-tree HEAD\n          git update-index -q --refresh || true\n          git ls-files -z --modified --deleted --others --exclude-standard',
        )
        if (not l_1_everything):
            pass
            t_14.extend((
                ' -- ',
                str(environment.call(context, (undefined(name='record_paths') if l_0_record_paths is missing else l_0_record_paths))),
            ))
        t_14.append(
            ' \\\n            | xargs -0 --no-run-if-empty git add -A --\n          # A data file apply moved from Git to DVC leaves Git\'s index (its .dvc file replaces it).\n          git ls-files -z -- \':(glob)**/*.dvc\' | while IFS= read -r -d \'\' dvcfile; do\n            if git ls-files --error-unmatch -- "${dvcfile%.dvc}" >/dev/null 2>&1; then\n              git rm -q --cached -- "${dvcfile%.dvc}"\n            fi\n          done',
        )
        return concat(t_14)
    context.exported_vars.add('stage_records')
    context.vars['stage_records'] = l_0_stage_records = Macro(environment, macro, 'stage_records', ('everything',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_ci):
        t_15 = []
        if l_1_ci is missing:
            l_1_ci = undefined("parameter 'ci' was not provided", name='ci')
        pass
        t_15.extend((
            '\n      - name: Record training outputs\n        # Everything apply wrote goes to ',
            str(t_1(environment.getattr(l_1_ci, 'default_branch'))),
            ': the commit apply made for a new version\n        # (the one its tag names), plus any file apply wrote after it (dvc.lock, .dvc files, params/,\n        # managed files) in one more bot commit, so a fresh clone has a clean `dvc status` and plans\n        # no changes. A branch that moved meanwhile is left alone (never a force push): the run\n        # queued for the newer commit records its own training.\n        env:\n          GITHUB_TOKEN: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.token')),
            '\n          SERVER_URL: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'github.server_url')),
            '\n          BRANCH: ',
            str(t_2(environment.getattr(l_1_ci, 'default_branch'))),
            '\n        run: |\n          if [ "$GITHUB_REF" != "refs/heads/${BRANCH}" ]; then\n            # A run started by hand on another branch must never move the default branch.\n            echo "::notice title=mlopsctl::not on ${BRANCH}: training outputs are not recorded"\n            exit 0\n          fi',
            str(environment.call(context, (undefined(name='stage_records') if l_0_stage_records is missing else l_0_stage_records), everything=True)),
            '\n          if ! git diff --cached --quiet HEAD; then\n            git diff --cached --stat HEAD\n            git commit -q -m "mlopsctl: record training outputs of ${GITHUB_SHA::7} [skip ci]"\n          fi\n          if [ "$(git rev-parse HEAD)" = "$GITHUB_SHA" ]; then\n            echo "No training outputs to record."\n            exit 0\n          fi\n          git log --oneline "${GITHUB_SHA}..HEAD"\n          auth="$(printf \'x-access-token:%s\' "$GITHUB_TOKEN" | base64 | tr -d \'\\n\')"\n          if out="$(git -c "http.${SERVER_URL}/.extraheader=AUTHORIZATION: basic ${auth}" \\\n              push --porcelain origin "HEAD:refs/heads/${BRANCH}" 2>&1)"; then\n            printf \'%s\\n\' "$out"\n            exit 0\n          fi\n          printf \'%s\\n\' "$out"\n          case "$out" in\n            *"[rejected]"*)\n              echo "::warning title=mlopsctl::${BRANCH} moved during this run; its training outputs were not recorded (the next run records its own)"\n              exit 0\n              ;;\n          esac\n          echo "::error title=mlopsctl::could not push the training outputs to ${BRANCH}: branch protection must let this workflow push there"\n          exit 1',
        ))
        return concat(t_15)
    context.exported_vars.add('record_outputs')
    context.vars['record_outputs'] = l_0_record_outputs = Macro(environment, macro, 'record_outputs', ('ci',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_actions):
        t_16 = []
        if l_1_actions is missing:
            l_1_actions = undefined("parameter 'actions' was not provided", name='actions')
        pass
        t_16.extend((
            '\n      - name: Collect training outputs for the project job\n        run: |',
            str(environment.call(context, (undefined(name='stage_records') if l_0_stage_records is missing else l_0_stage_records))),
            '\n          out="$RUNNER_TEMP/mlops-lock"\n          mkdir -p "$out"\n          # The whole dvc.lock (the project job takes the stages that differ), the changed .dvc files\n          # and reports/ (kept in Git, not on the DVC remote: `mlopsctl lock merge` copies them in).\n          if [ -f dvc.lock ]; then cp dvc.lock "$out/dvc.lock"; fi\n          git diff --cached --name-only -z --diff-filter=d HEAD -- ',
            str(environment.call(context, (undefined(name='record_paths') if l_0_record_paths is missing else l_0_record_paths))),
            ' \\\n            | while IFS= read -r -d \'\' path; do\n                if [ "$path" != dvc.lock ]; then mkdir -p "$out/$(dirname "$path")" && cp "$path" "$out/$path"; fi\n              done\n      - name: Upload training outputs\n        uses: ',
            str(environment.getattr(l_1_actions, 'upload_artifact')),
            '\n        with:\n          name: mlops-lock-',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'matrix.model')),
            '\n          path: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'runner.temp')),
            '/mlops-lock/\n          if-no-files-found: warn\n          retention-days: 1',
        ))
        return concat(t_16)
    context.exported_vars.add('upload_records')
    context.vars['upload_records'] = l_0_upload_records = Macro(environment, macro, 'upload_records', ('actions',), False, False, False, context.eval_ctx.autoescape)
    def macro(l_1_actions):
        t_17 = []
        if l_1_actions is missing:
            l_1_actions = undefined("parameter 'actions' was not provided", name='actions')
        pass
        t_17.extend((
            "\n      - name: Download the models' training outputs\n        uses: ",
            str(environment.getattr(l_1_actions, 'download_artifact')),
            '\n        with:\n          pattern: mlops-lock-*\n          path: ',
            str(environment.call(context, (undefined(name='gh') if l_0_gh is missing else l_0_gh), 'runner.temp')),
            '/mlops-locks\n      - name: Merge the models\' training outputs\n        run: |\n          shopt -s nullglob\n          set --\n          # One folder per model job; a single artifact is unpacked without its folder.\n          for lock in "$RUNNER_TEMP/mlops-locks/dvc.lock" "$RUNNER_TEMP"/mlops-locks/mlops-lock-*/dvc.lock; do\n            [ -f "$lock" ] || continue\n            set -- "$@" "$lock"\n            dir="$(dirname "$lock")"\n            # Datasets a model job started tracking: the same .dvc file, at the same path.\n            (cd "$dir" && find . -type f -name \'*.dvc\' -print0) \\\n              | while IFS= read -r -d \'\' path; do\n                  mkdir -p "$(dirname "$path")" && cp "$dir/$path" "$path"\n                done\n          done\n          if [ "$#" -gt 0 ]; then mlopsctl lock merge "$@"; fi',
        ))
        return concat(t_17)
    context.exported_vars.add('merge_records')
    context.vars['merge_records'] = l_0_merge_records = Macro(environment, macro, 'merge_records', ('actions',), False, False, False, context.eval_ctx.autoescape)
    yield '\n'

blocks = {}
debug_info = '10=24&11=31&14=37&16=46&19=49&20=53&24=58&26=69&28=71&29=73&36=81&39=92&40=94&43=99&44=103&51=114&52=119&53=124&58=132&59=137&60=141&61=145&65=153&67=160&70=162&72=166&75=172&76=179&78=183&81=186&85=191&87=195&90=199&96=207&98=211&101=215&106=221&113=230&118=235&120=237&121=239&142=245&150=254&154=262&164=274&166=281&172=283&173=285&174=287&181=289&208=295&211=302&217=304&222=306&224=308&225=310&230=316&232=323&235=325'
