import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router";
import { api } from "../api/client";
import { POLL_MS, useFlowNames } from "../api/queries";
import type { FlowRun, StateType } from "../api/types";
import { Card, Empty, ErrorBox, FlowRunLink, Loading, StateBadge, Time } from "../components/common";
import { formatCount, formatDuration, formatPercent } from "../lib/format";
import { RANGES, isRangeKey, type RangeKey } from "../lib/history";
import { stateVar } from "../lib/states";
import { useNow } from "../lib/useNow";
import { HistoryChart } from "./HistoryChart";
import { useRunHistory } from "./useHistory";
import { FailingDeploymentsCard, RecentRunsCard, WorkPoolHealthCard } from "./RecentRuns";
import { GROUPS, groupCountKey, groupQuery, type Group } from "./groups";

const RANGE_LABEL: Record<RangeKey, string> = { "1h": "Past hour", "6h": "Past 6 hours", "24h": "Past day", "7d": "Past week", "30d": "Past 30 days" };

export function DashboardPage() {
  const [params, setParams] = useSearchParams();
  const range: RangeKey = isRangeKey(params.get("range")) ? (params.get("range") as RangeKey) : "24h";
  const span = RANGES[range];
  const now = useNow(30_000);
  const anchor = Math.floor(now / 60_000) * 60_000;
  const after = new Date(anchor - span * 1000).toISOString();

  const anyRuns = useQuery({
    queryKey: ["flow_runs", "count", "all"],
    queryFn: ({ signal }) => api.flowRunsCount({}, signal),
    refetchInterval: POLL_MS,
  });

  return (
    <div className="page">
      <header className="page-head">
        <h1>Dashboard</h1>
        <label className="field inline">
          <span>Range</span>
          <select
            value={range}
            onChange={(e) => {
              const next = new URLSearchParams(params);
              next.set("range", e.target.value);
              setParams(next, { replace: true });
            }}
          >
            {(Object.keys(RANGES) as RangeKey[]).map((k) => (
              <option key={k} value={k}>
                {RANGE_LABEL[k]}
              </option>
            ))}
          </select>
        </label>
      </header>
      {anyRuns.isError && <ErrorBox error={anyRuns.error} retry={() => void anyRuns.refetch()} />}
      {anyRuns.data === 0 ? (
        <Empty title="No flow runs yet">
          <p>
            Point the Prefect client at this server (<code>PREFECT_API_URL={window.location.origin}/api</code>) and run a flow; it shows up here.
          </p>
        </Empty>
      ) : (
        <div className="dash-grid">
          <div className="dash-main">
            <RunsCard anchor={anchor} span={span} after={after} range={range} />
            <RecentRunsCard after={after} range={range} />
            <WarningsCard after={after} />
          </div>
          <div className="dash-side">
            <TaskRunsCard after={after} />
            <WorkPoolHealthCard />
            <FailingDeploymentsCard after={after} />
            <UpcomingCard anchor={anchor} />
          </div>
        </div>
      )}
    </div>
  );
}

function RunsCard({ anchor, span, after, range }: { anchor: number; span: number; after: string; range: RangeKey }) {
  const history = useRunHistory(anchor, span, {});
  return (
    <Card title="Flow runs">
      <div className="tiles">
        {GROUPS.map((g) => (
          <CountTile key={g.key} group={g} after={after} range={range} />
        ))}
      </div>
      {history.isPending ? (
        <Loading />
      ) : history.isError ? (
        <ErrorBox error={history.error} retry={() => void history.refetch()} />
      ) : (
        <>
          <HistoryChart buckets={history.data.buckets} spanSeconds={span} />
          {history.data.approximate && <p className="muted small">Chart shows the newest 1,000 runs in range.</p>}
        </>
      )}
    </Card>
  );
}

function CountTile({ group, after, range }: { group: Group; after: string; range: RangeKey }) {
  const q = useQuery({
    queryKey: groupCountKey(group, after),
    queryFn: ({ signal }) => api.flowRunsCount(groupQuery(group, after), signal),
    placeholderData: keepPreviousData,
    refetchInterval: POLL_MS,
  });
  const to = group.late ? `/runs?state=LATE` : `/runs?state=${group.param}&window=${range}`;
  return (
    <Link to={to} className="tile" style={{ "--tile": stateVar(group.color) } as React.CSSProperties} data-testid={`count-${group.key}`}>
      <span className="tile-label">{group.label}</span>
      <span className="tile-value">{q.data === undefined ? "…" : formatCount(q.data)}</span>
    </Link>
  );
}

function TaskRunsCard({ after }: { after: string }) {
  const count = (key: string, types: StateType[] | null) =>
    ({
      queryKey: ["task_runs", "count", key, after],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api.taskRunsCount(
          { task_runs: { start_time: { after_: after }, ...(types ? { state: { type: { any_: types } } } : {}) } },
          signal,
        ),
      placeholderData: keepPreviousData,
      refetchInterval: POLL_MS,
    }) as const;
  const total = useQuery(count("total", null));
  const completed = useQuery(count("completed", ["COMPLETED"]));
  const failed = useQuery(count("failed", ["FAILED", "CRASHED"]));
  const running = useQuery(count("running", ["RUNNING"]));
  const t = total.data ?? 0;
  return (
    <Card title="Task runs">
      {total.isError ? (
        <ErrorBox error={total.error} />
      ) : (
        <div className="stats">
          <div>
            <span className="stat-value">{total.data === undefined ? "…" : formatCount(t)}</span>
            <span className="stat-label">started in range</span>
          </div>
          <div>
            <span className="stat-value" style={{ color: stateVar("COMPLETED") }}>
              {formatPercent(completed.data ?? 0, t)}
            </span>
            <span className="stat-label">completed ({formatCount(completed.data ?? 0)})</span>
          </div>
          <div>
            <span className="stat-value" style={(failed.data ?? 0) > 0 ? { color: stateVar("FAILED") } : undefined}>
              {formatPercent(failed.data ?? 0, t)}
            </span>
            <span className="stat-label">failed or crashed ({formatCount(failed.data ?? 0)})</span>
          </div>
          <div>
            <span className="stat-value" style={(running.data ?? 0) > 0 ? { color: stateVar("RUNNING") } : undefined}>
              {formatCount(running.data ?? 0)}
            </span>
            <span className="stat-label">running now</span>
          </div>
        </div>
      )}
    </Card>
  );
}

function RunRows({ runs, empty, time, badge = true }: { runs: FlowRun[]; empty: string; time: (r: FlowRun) => React.ReactNode; badge?: boolean }) {
  const flows = useFlowNames(runs.map((r) => r.flow_id));
  if (runs.length === 0) return <p className="muted pad">{empty}</p>;
  return (
    <ul className="run-rows">
      {runs.map((r) => (
        <li key={r.id}>
          {badge && <StateBadge type={r.state_type} name={r.state_name} />}
          <FlowRunLink id={r.id} name={r.name} flowName={flows.get(r.flow_id)?.name} />
          <span className="muted right">{time(r)}</span>
        </li>
      ))}
    </ul>
  );
}

function WarningsCard({ after }: { after: string }) {
  const late = useQuery({
    queryKey: ["flow_runs", "filter", "late"],
    queryFn: ({ signal }) =>
      api.flowRuns({ flow_runs: { state: { name: { any_: ["Late"] } } }, sort: "EXPECTED_START_TIME_ASC", limit: 10 }, signal),
    refetchInterval: POLL_MS,
    placeholderData: keepPreviousData,
  });
  const failed = useQuery({
    queryKey: ["flow_runs", "filter", "failed", after],
    queryFn: ({ signal }) =>
      api.flowRuns(
        { flow_runs: { state: { type: { any_: ["FAILED", "CRASHED"] } }, expected_start_time: { after_: after } }, sort: "EXPECTED_START_TIME_DESC", limit: 10 },
        signal,
      ),
    refetchInterval: POLL_MS,
    placeholderData: keepPreviousData,
  });
  const nLate = late.data?.length ?? 0;
  const nFailed = failed.data?.length ?? 0;
  return (
    <Card title="Needs attention" className={nLate + nFailed > 0 ? "warn" : ""}>
      <div className="warnings" data-testid="warnings">
        <section aria-labelledby="late-h">
          <h3 id="late-h">
            Late runs <Link to="/runs?state=LATE">view all</Link>
          </h3>
          {late.isError ? (
            <ErrorBox error={late.error} />
          ) : late.isPending ? (
            <Loading />
          ) : (
            <RunRows
              runs={late.data}
              empty="No late runs."
              time={(r) => (
                <>
                  due <Time iso={r.expected_start_time} />
                </>
              )}
            />
          )}
        </section>
        <section aria-labelledby="failed-h">
          <h3 id="failed-h">
            Failed and crashed runs <Link to="/runs?state=FAILED,CRASHED">view all</Link>
          </h3>
          {failed.isError ? (
            <ErrorBox error={failed.error} />
          ) : failed.isPending ? (
            <Loading />
          ) : (
            <RunRows runs={failed.data} empty="No failures in this range." time={(r) => <Time iso={r.end_time ?? r.start_time ?? r.expected_start_time} />} />
          )}
        </section>
      </div>
    </Card>
  );
}

function UpcomingCard({ anchor }: { anchor: number }) {
  const q = useQuery({
    queryKey: ["flow_runs", "filter", "upcoming", anchor],
    queryFn: ({ signal }) =>
      api.flowRuns(
        {
          flow_runs: { state: { type: { any_: ["SCHEDULED"] }, name: { not_any_: ["Late"] } }, expected_start_time: { after_: new Date(anchor).toISOString() } },
          sort: "EXPECTED_START_TIME_ASC",
          limit: 8,
        },
        signal,
      ),
    refetchInterval: POLL_MS,
    placeholderData: keepPreviousData,
  });
  return (
    <Card title="Upcoming runs">
      {q.isError ? (
        <ErrorBox error={q.error} />
      ) : q.isPending ? (
        <Loading />
      ) : (
        <RunRows
          runs={q.data}
          empty="Nothing scheduled."
          badge={false}
          time={(r) => (
            <>
              <Time iso={r.expected_start_time} />
              {r.estimated_run_time > 0 && ` · ~${formatDuration(r.estimated_run_time)}`}
            </>
          )}
        />
      )}
    </Card>
  );
}
