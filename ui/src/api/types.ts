// Types for the parts of Prefect 3's REST API that the UI reads. Field names
// follow the server's JSON exactly (snake_case) so responses are used as-is.

/** The nine state types a Prefect run can be in. */
export type StateType =
  | "SCHEDULED"
  | "PENDING"
  | "RUNNING"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED"
  | "CRASHED"
  | "PAUSED"
  | "CANCELLING";

export const STATE_TYPES: readonly StateType[] = [
  "SCHEDULED",
  "PENDING",
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
  "CRASHED",
  "PAUSED",
  "CANCELLING",
];

export interface StateDetails {
  flow_run_id?: string | null;
  task_run_id?: string | null;
  child_flow_run_id?: string | null;
  scheduled_time?: string | null;
  pause_timeout?: string | null;
  pause_reschedule?: boolean;
  pause_key?: string | null;
  run_input_keyset?: Record<string, string> | null;
  cache_key?: string | null;
  cache_expiration?: string | null;
  retriable?: boolean | null;
}

export interface State {
  id: string;
  type: StateType;
  name: string | null;
  timestamp: string;
  message: string | null;
  /** A persisted result's metadata (storage key, serializer) when the run kept its result. */
  data?: unknown;
  state_details?: StateDetails;
}

export interface Flow {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  tags: string[];
}

export interface FlowRunPolicy {
  max_retries?: number;
  retry_delay_seconds?: number;
  retries?: number | null;
  retry_delay?: number | null;
}

export interface FlowRun {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  flow_id: string;
  deployment_id: string | null;
  work_queue_name: string | null;
  flow_version: string | null;
  parameters: Record<string, unknown>;
  tags: string[];
  parent_task_run_id: string | null;
  state_type: StateType | null;
  state_name: string | null;
  run_count: number;
  expected_start_time: string | null;
  next_scheduled_start_time: string | null;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
  estimated_run_time: number;
  estimated_start_time_delta: number;
  empirical_policy?: FlowRunPolicy;
  state: State | null;
}

/** One entry of a task run's task_inputs: where an argument came from. */
export type TaskRunInput =
  | { input_type: "task_run"; id: string }
  | { input_type: "flow_run"; id: string }
  | { input_type: "parameter"; name: string }
  | { input_type: "constant"; type: string };

export interface TaskRunPolicy {
  max_retries?: number;
  retry_delay_seconds?: number;
  retries?: number | null;
  retry_delay?: number | number[] | null;
  retry_jitter_factor?: number | null;
}

/** One node of GET /flow_runs/{id}/graph-v2 (Prefect's Graph): a task run, or the subflow run it tracks. */
export interface RunGraphNode {
  kind: "task-run" | "flow-run";
  id: string;
  label: string;
  /** Baton answers "" for a run without a state. */
  state_type: StateType | "";
  start_time: string;
  end_time: string | null;
  parents: { id: string }[];
  children: { id: string }[];
  encapsulating: { id: string }[];
}

/** GET /flow_runs/{id}/graph-v2: nodes as [id, node] pairs, as Prefect encodes its list of tuples. */
export interface RunGraphData {
  start_time: string | null;
  end_time: string | null;
  root_node_ids: string[];
  nodes: [string, RunGraphNode][];
}

export interface TaskRun {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  flow_run_id: string | null;
  task_key: string;
  dynamic_key: string;
  cache_key: string | null;
  cache_expiration: string | null;
  task_version: string | null;
  empirical_policy?: TaskRunPolicy;
  tags: string[];
  task_inputs: Record<string, TaskRunInput[] | undefined>;
  state_type: StateType | null;
  state_name: string | null;
  run_count: number;
  flow_run_run_count: number;
  expected_start_time: string | null;
  start_time: string | null;
  end_time: string | null;
  total_run_time: number;
  estimated_run_time: number;
  state: State | null;
}

export interface Log {
  id: string;
  name: string;
  level: number;
  message: string;
  timestamp: string;
  flow_run_id: string | null;
  task_run_id: string | null;
}

export interface Resource {
  "prefect.resource.id": string;
  "prefect.resource.name"?: string;
  "prefect.resource.role"?: string;
  [label: string]: string | undefined;
}

export interface PrefectEvent {
  id: string;
  occurred: string;
  received?: string;
  event: string;
  resource: Resource;
  related: Resource[];
  payload: Record<string, unknown>;
  follows?: string | null;
}

export interface EventPage {
  events: PrefectEvent[];
  total: number;
  next_page: string | null;
}

export interface EventCount {
  value: string;
  label: string;
  count: number;
  start_time: string;
  end_time: string;
}

/** A flow run reduced to what a list row shows of it (POST /ui/deployments/runs). */
export interface RunDot {
  id: string;
  name: string;
  state_type: StateType | null;
  state_name: string | null;
  expected_start_time: string | null;
}

/** A deployment's next scheduled run and its latest other runs, newest first. */
export interface DeploymentRuns {
  next: RunDot | null;
  recent: RunDot[];
}

export interface Paginated<T> {
  results: T[];
  count: number;
  limit: number;
  pages: number;
  page: number;
}

export interface HistoryState {
  state_type: StateType;
  state_name: string;
  count_runs: number;
  sum_estimated_run_time: number;
  sum_estimated_lateness: number;
}

export interface HistoryInterval {
  interval_start: string;
  interval_end: string;
  states: HistoryState[];
}

export type FlowRunSort =
  | "ID_DESC"
  | "START_TIME_ASC"
  | "START_TIME_DESC"
  | "EXPECTED_START_TIME_ASC"
  | "EXPECTED_START_TIME_DESC"
  | "NAME_ASC"
  | "NAME_DESC"
  | "NEXT_SCHEDULED_START_TIME_ASC"
  | "END_TIME_DESC";

// Filter bodies: only the fields the UI sends. Every field is optional, as
// in Prefect, and an absent field means "no constraint".

interface AnyOf {
  any_?: string[];
  not_any_?: string[];
}
interface TimeRange {
  after_?: string;
  before_?: string;
}

export interface FlowRunFilter {
  operator?: "and_" | "or_";
  id?: AnyOf;
  deployment_id?: AnyOf & { is_null_?: boolean };
  work_queue_name?: AnyOf;
  name?: { any_?: string[]; like_?: string };
  tags?: { all_?: string[]; any_?: string[]; is_null_?: boolean };
  state?: { operator?: "and_" | "or_"; type?: AnyOf; name?: AnyOf };
  start_time?: TimeRange & { is_null_?: boolean };
  expected_start_time?: TimeRange;
  parent_flow_run_id?: AnyOf;
  parent_task_run_id?: AnyOf & { is_null_?: boolean };
}

export interface FlowFilter {
  id?: AnyOf;
  name?: { any_?: string[]; like_?: string };
}

export interface TaskRunFilter {
  id?: AnyOf;
  flow_run_id?: AnyOf & { is_null_?: boolean };
  state?: { type?: AnyOf; name?: AnyOf };
  start_time?: TimeRange & { is_null_?: boolean };
  subflow_runs?: { exists_?: boolean };
}

export interface FlowRunQuery {
  flows?: FlowFilter;
  flow_runs?: FlowRunFilter;
  task_runs?: TaskRunFilter;
  deployments?: DeploymentFilter;
  work_pools?: { name?: AnyOf; id?: AnyOf };
  work_pool_queues?: { name?: AnyOf; id?: AnyOf };
}

export interface LogFilter {
  level?: { ge_?: number };
  text?: { query: string };
  flow_run_id?: AnyOf;
  task_run_id?: AnyOf;
}

export interface EventFilter {
  occurred?: { since?: string; until?: string };
  event?: { prefix?: string[]; exclude_prefix?: string[]; name?: string[] };
  any_resource?: { id?: string[]; id_prefix?: string[] };
  id?: { id?: string[] };
  order?: "ASC" | "DESC";
}

// Deployments, work pools and queues, workers, concurrency limits, saved
// searches and run input: the shapes of Prefect 3's responses.

export interface IntervalSchedule {
  interval: number;
  anchor_date?: string | null;
  timezone?: string | null;
}
export interface CronSchedule {
  cron: string;
  timezone?: string | null;
  day_or?: boolean;
}
export interface RRuleSchedule {
  rrule: string;
  timezone?: string | null;
}
export type Schedule = IntervalSchedule | CronSchedule | RRuleSchedule;

export interface DeploymentSchedule {
  id: string;
  created?: string | null;
  updated?: string | null;
  deployment_id?: string | null;
  schedule: Schedule;
  active: boolean;
  max_scheduled_runs?: number | null;
  parameters?: Record<string, unknown>;
  slug?: string | null;
}

export interface GlobalConcurrencyLimit {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  limit: number;
  active: boolean;
  active_slots: number;
  slot_decay_per_second: number;
  /** Baton adds the holders of the slots where it knows them. */
  denied_slots?: number;
}

export interface Deployment {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  version: string | null;
  description: string | null;
  flow_id: string;
  flow_name?: string;
  paused: boolean;
  schedules: DeploymentSchedule[];
  concurrency_limit: number | null;
  global_concurrency_limit?: GlobalConcurrencyLimit | null;
  concurrency_options?: { collision_strategy?: string } | null;
  job_variables: Record<string, unknown> | null;
  parameters: Record<string, unknown> | null;
  tags: string[];
  work_queue_name: string | null;
  work_queue_id?: string | null;
  work_pool_name: string | null;
  last_polled: string | null;
  parameter_openapi_schema: JsonSchema | null;
  path: string | null;
  entrypoint: string | null;
  pull_steps?: unknown[] | null;
  /** READY or NOT_READY. */
  status: string;
  enforce_parameter_schema: boolean;
}

/** The subset of JSON Schema that Prefect derives from a flow's signature. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  definitions?: Record<string, JsonSchema>;
  $defs?: Record<string, JsonSchema>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  position?: number;
  additionalProperties?: boolean | JsonSchema;
}

export interface DeploymentFilter {
  id?: AnyOf;
  name?: { any_?: string[]; like_?: string };
  flow_or_deployment_name?: { like_?: string };
  paused?: { eq_?: boolean };
  tags?: { all_?: string[] };
  work_queue_name?: AnyOf;
}

export interface WorkPool {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  description: string | null;
  type: string;
  base_job_template: Record<string, unknown> | null;
  is_paused: boolean;
  concurrency_limit: number | null;
  status: "READY" | "NOT_READY" | "PAUSED" | null;
  default_queue_id: string;
  active_slots?: number | null;
}

export interface WorkQueue {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  description: string | null;
  is_paused: boolean;
  concurrency_limit: number | null;
  priority: number;
  work_pool_id: string | null;
  work_pool_name: string | null;
  last_polled: string | null;
  status: "READY" | "NOT_READY" | "PAUSED" | null;
  active_slots?: number | null;
}

export interface Worker {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  work_pool_id: string;
  last_heartbeat_time: string | null;
  heartbeat_interval_seconds: number | null;
  status: "ONLINE" | "OFFLINE";
}

export interface TagConcurrencyLimit {
  id: string;
  created: string | null;
  updated: string | null;
  tag: string;
  concurrency_limit: number;
  active_slots: string[];
}

export interface SavedSearchFilter {
  object: string;
  property: string;
  type: string;
  operation: string;
  value: unknown;
}

export interface SavedSearch {
  id: string;
  created: string | null;
  updated: string | null;
  name: string;
  filters: SavedSearchFilter[];
}

export interface FlowRunInput {
  id: string;
  flow_run_id: string;
  key: string;
  value: string;
  sender?: string | null;
}

export interface OrchestrationResult {
  status: "ACCEPT" | "REJECT" | "ABORT" | "WAIT";
  state?: State | null;
  details?: { reason?: string; delay_seconds?: number };
}
