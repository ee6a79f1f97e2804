// Renders one artifact by its type. Markdown and link artifacts go through
// the Markdown component (React elements, never an HTML string; links only
// to http(s) and relative targets), tables are built cell by cell from
// text, images need an http(s) URL: an artifact cannot run script in the
// viewer's browser.

import { Link } from "react-router";
import type { Artifact } from "../api/content";
import { Time } from "../components/common";
import { Markdown } from "../components/Markdown";
import { dataText, parseTable, progressValue, safeUrl } from "../lib/artifacts";

export function ArtifactBody({ artifact }: { artifact: Pick<Artifact, "type" | "data"> }) {
  const { type, data } = artifact;
  if (type === "markdown" || type === "link") return <div className="artifact-md" data-testid="artifact-markdown"><Markdown text={dataText(data)} /></div>;
  if (type === "table") {
    const t = parseTable(data);
    if (!t) return <pre className="json">{dataText(data)}</pre>;
    return (
      <div className="table-wrap">
        <table className="table" data-testid="artifact-table">
          <thead>
            <tr>{t.headers.map((h) => <th key={h} scope="col">{h}</th>)}</tr>
          </thead>
          <tbody>
            {t.rows.map((r, i) => (
              <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (type === "progress") {
    const v = progressValue(data);
    return v === null ? <pre className="json">{dataText(data)}</pre> : (
      <div className="artifact-progress">
        <progress max={100} value={v} aria-label={`${v}% complete`} /> <span>{v}%</span>
      </div>
    );
  }
  if (type === "image") {
    const url = safeUrl(data);
    return url ? <img className="artifact-image" src={url} alt="Artifact image" referrerPolicy="no-referrer" /> : <pre className="json">{dataText(data)}</pre>;
  }
  return <pre className="json">{dataText(data)}</pre>;
}

/** A compact list of artifacts (run pages' Artifacts tab, a key's history). */
export function ArtifactList({ artifacts, showRun = true }: { artifacts: Artifact[]; showRun?: boolean }) {
  return (
    <ul className="artifact-list" data-testid="artifact-list">
      {artifacts.map((a) => (
        <li key={a.id} className="card artifact-card">
          <header className="artifact-head">
            <Link to={`/artifacts/artifact/${a.id}`}>{a.key ?? `${a.type ?? "artifact"} ${a.id.slice(0, 8)}`}</Link>
            <span className="badge">{a.type ?? "unknown"}</span>
            <span className="muted small"><Time iso={a.created} /></span>
            {showRun && a.flow_run_id && <Link className="small" to={`/runs/flow-run/${a.flow_run_id}?tab=artifacts`}>flow run</Link>}
          </header>
          {a.description && <div className="muted"><Markdown text={a.description} /></div>}
          <ArtifactBody artifact={a} />
        </li>
      ))}
    </ul>
  );
}
