"""The platform's executor: Dagster's in-process executor that first records its worker and
recovers runs killed before it.

Recovery has to happen before the run claims a slot of the one-slot `warehouse` pool, and
whatever command started the run (`dagster asset materialize`, the UI, a sensor, a
re-execution): the executor is the one place every run passes through at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
from dagster._core.events import DagsterEvent
from dagster._core.executor.in_process import InProcessExecutor

from dl_platform.operations.dead_runs import WORKER_TAG, recover_dead_runs
from dl_platform.operations.worker import current


class RecoveringInProcessExecutor(InProcessExecutor):
    """In-process execution, after tagging the run with its worker and failing dead runs."""

    def execute(self, plan_context, execution_plan) -> Iterator[DagsterEvent]:
        instance, run_id = plan_context.instance, plan_context.run_id
        instance.add_run_tags(run_id, {WORKER_TAG: current().tag()})
        recovery = recover_dead_runs(instance, exclude=[run_id], log=plan_context.log.warning)
        if recovery:
            plan_context.log.warning(recovery.describe())
        yield from super().execute(plan_context, execution_plan)


@dg.executor(name="in_process", config_schema=dg.in_process_executor.config_schema)
def platform_executor(init_context: dg.InitExecutorContext) -> RecoveringInProcessExecutor:
    """One process per run (the warehouse has one writer), recovering dead runs first."""
    base = dg.in_process_executor.executor_creation_fn(init_context)
    return RecoveringInProcessExecutor(
        retries=base.retries, step_dependency_config=base.step_dependency_config,
        marker_to_close=base.marker_to_close,
    )
