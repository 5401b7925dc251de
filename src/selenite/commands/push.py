"""`selenite push [--dry-run [--json]]`: publish the working tree as a new version (the work is
``selenite.api.push``'s, shared with ``Tree.push``); this prints the plan or the result."""

from __future__ import annotations

import json

from selenite import output, pushplan
from selenite.api.push import push as run_push
from selenite.check.report import report
from selenite.config import Settings
from selenite.errors import FatalError


def push(settings: Settings, *, version: str | None, probation: bool, dry_run: bool, jobs: int,
         message: str | None, follow_external: bool = False, force: bool = False, as_json: bool = False) -> int:
    if as_json and not dry_run:
        raise FatalError("--json goes with --dry-run (a push reports on stderr and in its last line)")
    done = run_push(settings, version=version, probation=probation, dry_run=dry_run, jobs=jobs, message=message,
                    follow_external=follow_external, force=force)
    if done.damaged:
        report(done.damaged, "push refused")
        return 1
    assert done.plan is not None
    if done.version is None:
        if dry_run and as_json:
            output.write(json.dumps(done.plan.as_json(done.project, done.asset, None), indent=2))
        output.info(f"nothing to push: the tree is {done.base} unchanged "
                    "(pass --version to publish it under a new name anyway)")
    elif not done.pushed:
        if as_json:
            output.write(json.dumps(done.plan.as_json(done.project, done.asset, done.version), indent=2))
        else:
            _print_plan(done.plan, done.spec)
    else:
        state = " (on probation: owners approve it before it becomes latest)" if done.on_probation else ""
        output.write(f"pushed {done.spec}{state}: {done.summary}")
    return 0


def _print_plan(plan: pushplan.Plan, spec: str) -> None:
    links, dedup, simple = (plan.of_kind(k) for k in (pushplan.LINK, pushplan.DEDUP, pushplan.SIMPLE))
    output.write(f"plan for {spec}:")

    def size(items: list[pushplan.Item]) -> str:
        return output.human_bytes(sum(i.key.size for i in items))

    output.write(f"  links    {len(links):>7} files  {size(links):>10}  (no bytes move)")
    output.write(f"  dedup    {len(dedup):>7} files  {size(dedup):>10}  (uploaded unless the latest version has them)")
    output.write(f"  uploads  {len(simple):>7} files  {size(simple):>10}")
    output.write(f"  deleted  {len(plan.deleted):>7} files")
    for path in plan.deleted:
        output.write(f"    - {output.printable(path)}")
    if plan.external:
        output.write(f"  external {len(plan.external):>7} files  (links out of the tree: their targets are published)")
        for path, target in plan.external:
            output.write(f"    {output.printable(path)} -> {output.printable(str(target))}")
    output.write(f"at most {output.human_bytes(plan.upload_bytes)} of {output.human_bytes(plan.total_bytes)} to upload")
