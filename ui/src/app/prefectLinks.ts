// Prefect's client and CLI print links into the UI (`prefect deploy`, `prefect
// deployment run`, `prefect work-pool create`, flow-run logs, runtime.flow_run.ui_url,
// url_for(...) in prefect.utilities.urls, the Cloud workspace URL after
// `prefect cloud login`). Baton's pages use the same paths where they can; the
// few paths that differ are mapped here, so every link Prefect prints lands on
// the right page.

/** One Prefect link form that Baton serves under another path. */
interface LinkRule {
  /** Matches Prefect's path (without the /account/{a}/workspace/{w} prefix). */
  from: RegExp;
  /** Builds Baton's path from the match. */
  to: (m: RegExpMatchArray) => string;
}

const seg = "([^/]+)";

const RULES: LinkRule[] = [
  // prefect.runtime.flow_run.ui_url
  { from: new RegExp(`^/flow-runs/flow-run/${seg}/?$`), to: (m) => `/runs/flow-run/${m[1]}` },
  { from: /^\/flow-runs\/?$/, to: () => "/runs" },
  // url_for(worker)
  { from: new RegExp(`^/work-pools/work-pool/${seg}/worker/${seg}/?$`), to: (m) => `/work-pools/work-pool/${m[1]}?tab=workers` },
  // url_for(concurrency-limit): the tag-based (v1) limits
  { from: new RegExp(`^/concurrency-limits/concurrency-limit/${seg}/?$`), to: () => "/concurrency-limits?tab=tags" },
  // url_for(received-event): the events page around that day
  { from: new RegExp(`^/events/event/${seg}/${seg}/?$`), to: (m) => `/events?event_id=${m[2]}&day=${m[1]}` },
  // `prefect block register|create` against Prefect Cloud
  { from: /^\/settings\/blocks(\/.*)?$/, to: (m) => `/blocks${m[1] ?? ""}` },
];

/**
 * Baton's path for a path Prefect printed, or null when Baton serves the
 * path as it is (or does not know it). The query string is kept.
 */
export function batonPath(pathname: string, search = ""): string | null {
  for (const r of RULES) {
    const m = pathname.match(r.from);
    if (m) {
      const to = r.to(m);
      const extra = search.replace(/^\?/, "");
      if (!extra) return to;
      return to + (to.includes("?") ? "&" : "?") + extra;
    }
  }
  return null;
}

/** A Cloud workspace URL's parts: /account/{a}/workspace/{w}{rest}. */
export function splitWorkspacePath(pathname: string): { account: string; workspace: string; rest: string } | null {
  const m = pathname.match(/^\/account\/([^/]+)\/workspace\/([^/]+)(\/.*)?$/);
  if (!m) return null;
  const rest = m[3] && m[3] !== "/" ? m[3] : "/dashboard";
  return { account: decodeURIComponent(m[1] ?? ""), workspace: decodeURIComponent(m[2] ?? ""), rest };
}
