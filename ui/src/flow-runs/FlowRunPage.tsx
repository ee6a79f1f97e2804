import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { Link, useParams, useSearchParams } from "react-router";
import { ApiError, api } from "../api/client";
import { RunActions } from "./RunActions";
import { useFlow, useFlowRun, useFlowRunStates, useRunGraph, useSubflowRuns, useTaskRun, useTaskRunCount, useTaskRunsPage } from "../api/queries";
import type { FlowRun, TaskRun } from "../api/types";
import { Card, Empty, ErrorBox, JsonBlock, KeyValues, Loading, Pager, StateBadge, Tags, Time, TimeFull } from "../components/common";
import { StateHistory } from "../components/StateHistory";
import { ArtifactsPanel } from "../artifacts/ArtifactsPanel";
import { Tabs } from "../components/Tabs";
import { LogsPanel } from "../logs/LogsPanel";
import { formatDuration, runDuration, shortId } from "../lib/format";
import { buildGraphFromServer, layoutGraph } from "../lib/graph";
import { isRunning } from "../lib/states";
import { useNow } from "../lib/useNow";
import { RunGraph } from "./RunGraph";

const TABS = [
  { id: "logs", label: "Logs" },
  { id: "task-runs", label: "Task runs" },
  { id: "subflows", label: "Subflow runs" },
  { id: "artifacts", label: "Artifacts" },
  { id: "details", label: "Details" },
  { id: "parameters", label: "Parameters" },
] as const;

type TabId = (typeof TABS)[number]["id"];

export function FlowRunPage() {
  const { id = "" } = useParams();
  const run = useFlowRun(id);
  if (run.isPending) return <div className="page"><Loading /></div>;
  if (run.isError) return <div className="page"><ErrorBox error={run.error} retry={() => void run.refetch()} /></div>;
  return <FlowRunView run={run.data} />;
}

function FlowRunView({ run }: { run: FlowRun }) {
  const [params, setParams] = useSearchParams();
  const tabParam = params.get("tab");
  const tab: TabId = TABS.some((t) => t.id === tabParam) ? (tabParam as TabId) : "logs";
  const live = isRunning(run.state_type);
  const now = useNow(live ? 1000 : 30_000);
  const flow = useFlow(run.flow_id);
  const states = useFlowRunStates(run.id);
  const graph = useRunGraph(run.id, live);
  const taskCount = useTaskRunCount(run.id, live);
  const subflows = useSubflowRuns(run.id, live && tab === "subflows");
  const parentTask = useTaskRun(run.parent_task_run_id);
  const parentRunId = parentTask.data?.flow_run_id ?? null;

  const layout = useMemo(() => (graph.data ? layoutGraph(buildGraphFromServer(graph.data, now)) : null), [graph.data, now]);
  // Log lines name their task run: the graph's task nodes carry the names.
  const taskNames = useMemo(() => new Map((graph.data?.nodes ?? []).filter(([, n]) => n.kind === "task-run").map(([, n]) => [n.id, n.label])), [graph.data]);
  const graphTooLarge = graph.error instanceof ApiError && graph.error.status === 400;

  const deployment = useQuery({
    queryKey: ["deployments", "one", run.deployment_id],
    queryFn: ({ signal }) => api.deployment(run.deployment_id ?? "", signal),
    enabled: !!run.deployment_id,
    staleTime: 60_000,
  });

  const retries = run.empirical_policy?.retries ?? run.empirical_policy?.max_retries ?? 0;
  useEffect(() => {
    document.title = `${run.name} · Baton`;
  }, [run.name]);

  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/runs">Runs</Link>
        <span aria-hidden="true">›</span>
        {flow.data ? <Link to={`/flows/flow/${flow.data.id}`}>{flow.data.name}</Link> : <span>…</span>}
        {parentRunId && (
          <>
            <span aria-hidden="true">›</span>
            <Link to={`/runs/flow-run/${parentRunId}`}>parent run</Link>
          </>
        )}
      </nav>
      <header className="page-head">
        <h1>
          {run.name} <StateBadge type={run.state_type} name={run.state_name} />
        </h1>
        <RunActions run={run} />
      </header>
      {run.state?.message && <p className={`notice ${run.state_type === "FAILED" || run.state_type === "CRASHED" ? "bad" : ""}`}>{run.state.message}</p>}

      <div className="summary-row">
        <div>
          <span className="stat-label">Started</span>
          <Time iso={run.start_time} now={now} />
        </div>
        <div>
          <span className="stat-label">Duration</span>
          <span>{formatDuration(runDuration(run, now))}</span>
        </div>
        <div>
          <span className="stat-label">Task runs</span>
          <span data-testid="task-run-count">{taskCount.data ?? "…"}</span>
        </div>
        <div>
          <span className="stat-label">Run count</span>
          <span>
            {run.run_count} {retries > 0 && <span className="muted">(retries allowed: {retries})</span>}
          </span>
        </div>
        <div>
          <span className="stat-label">Scheduled</span>
          <Time iso={run.expected_start_time} now={now} />
        </div>
      </div>

      <Card title="Dependency graph">
        {graphTooLarge ? (
          <Empty title="This run's graph is too large to draw">
            <span>{graph.error?.message} Its task runs are listed in the Task runs tab.</span>
          </Empty>
        ) : graph.isError ? (
          <ErrorBox error={graph.error} retry={() => void graph.refetch()} />
        ) : !layout ? (
          <Loading />
        ) : layout.nodes.length === 0 ? (
          <Empty title={run.state_type === "SCHEDULED" || run.state_type === "PENDING" ? "This run has not started yet" : "This run did not create any task or subflow runs"} />
        ) : (
          <RunGraph layout={layout} now={now} />
        )}
      </Card>

      <Tabs tabs={TABS} active={tab} onChange={(t) => {
        const next = new URLSearchParams(params);
        next.set("tab", t);
        setParams(next, { replace: true });
      }} />
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="tab-panel">
        {tab === "logs" && <LogsPanel filter={{ flow_run_id: { any_: [run.id] } }} live={live} fileName={`${run.name}-logs.txt`} taskNames={taskNames} downloadPath={`/flow_runs/${run.id}/logs/download`} version={run.state?.id ?? ""} />}
        {tab === "task-runs" &&
<TaskRunsTab flowRunId={run.id} total={taskCount.data} live={live} now={now} />}
        {tab === "subflows" &&
          (subflows.isError ? (
            <ErrorBox error={subflows.error} retry={() => void subflows.refetch()} />
          ) : !subflows.data ? (
            <Loading />
          ) : subflows.data.length === 0 ? (
            <Empty title="No subflow runs" />
          ) : (
            <ul className="run-rows">
              {subflows.data.map((s) => (
                <li key={s.id}>
                  <StateBadge type={s.state_type} name={s.state_name} />
                  <Link to={`/runs/flow-run/${s.id}`}>{s.name}</Link>
                  <span className="muted right">{formatDuration(runDuration(s, now))}</span>
                </li>
              ))}
            </ul>
          ))}
        {tab === "artifacts" && <ArtifactsPanel flowRunId={run.id} live={live} />}
        {tab === "details" && (
          <div className="two-col">
            <KeyValues
              items={[
                ["Flow", flow.data ? <Link to={`/flows/flow/${flow.data.id}`}>{flow.data.name}</Link> : "…"],
                ["Flow run ID", <code key="id">{run.id}</code>],
                ["State", <StateBadge key="s" type={run.state_type} name={run.state_name} />],
                ["Scheduled for", <TimeFull key="e" iso={run.expected_start_time} now={now} />],
                ["Started", <TimeFull key="st" iso={run.start_time} now={now} />],
                ["Ended", <TimeFull key="en" iso={run.end_time} now={now} />],
                ["Duration", formatDuration(runDuration(run, now))],
                ["Run count", String(run.run_count)],
                ["Retries", `${retries} allowed, ${run.empirical_policy?.retry_delay ?? run.empirical_policy?.retry_delay_seconds ?? 0}s delay`],
                ["Flow version", run.flow_version ?? "—"],
                ["Deployment", run.deployment_id ? <Link key="d" to={`/deployments/deployment/${run.deployment_id}`}>{deployment.data ? deployment.data.name : shortId(run.deployment_id)}</Link> : "—"],
                ["Work pool", deployment.data?.work_pool_name ? <Link key="wp" to={`/work-pools/work-pool/${encodeURIComponent(deployment.data.work_pool_name)}`}>{deployment.data.work_pool_name}</Link> : "—"],
                ["Work queue", run.work_queue_name ?? "—"],
                ["Parent task run", run.parent_task_run_id ? <Link key="p" to={`/runs/task-run/${run.parent_task_run_id}`}>{shortId(run.parent_task_run_id)}</Link> : "—"],
                ["Tags", run.tags.length ? <Tags key="t" tags={run.tags} /> : "—"],
              ]}
            />
            <div>
              <h3>State history</h3>
              {states.isError ? <ErrorBox error={states.error} /> : !states.data ? <Loading /> : <StateHistory states={states.data} until={run.end_time ? Date.parse(run.end_time) : now} />}
            </div>
          </div>
        )}
        {tab === "parameters" && (Object.keys(run.parameters).length === 0 ? <Empty title="No parameters" /> : <JsonBlock value={run.parameters} />)}
      </div>
    </div>
  );
}

const TASK_RUNS_PER_PAGE = 50;

/** The Task runs tab: one page of the run's task runs at a time, read from the server. */
function TaskRunsTab({ flowRunId, total, live, now }: { flowRunId: string; total: number | undefined; live: boolean; now: number }) {
  const [page, setPage] = useState(1);
  const runs = useTaskRunsPage(flowRunId, page, TASK_RUNS_PER_PAGE, live);
  if (runs.isError) return <ErrorBox error={runs.error} retry={() => void runs.refetch()} />;
  if (!runs.data) return <Loading />;
  const pages = total === undefined ? page + (runs.data.length === TASK_RUNS_PER_PAGE ? 1 : 0) : Math.ceil(total / TASK_RUNS_PER_PAGE);
  return (
    <>
      <TaskRunsTable runs={runs.data} now={now} />
      {pages > 1 && <Pager page={page} pages={pages} onPage={setPage} />}
    </>
  );
}

function TaskRunsTable({ runs, now }: { runs: TaskRun[]; now: number }) {
  if (runs.length === 0) return <Empty title="No task runs" />;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="task-runs-table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">Task run</th>
            <th scope="col">Started</th>
            <th scope="col" className="num">Duration</th>
            <th scope="col" className="num">Runs</th>
            <th scope="col">Tags</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((t) => (
            <tr key={t.id}>
              <td>
                <StateBadge type={t.state_type} name={t.state_name} />
              </td>
              <td>
                <Link to={`/runs/task-run/${t.id}`}>{t.name}</Link>
              </td>
              <td>
                <Time iso={t.start_time} now={now} />
              </td>
              <td className="num">{formatDuration(runDuration(t, now))}</td>
              <td className="num">{t.run_count}</td>
              <td>
                <Tags tags={t.tags} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
