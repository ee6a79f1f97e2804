import { FlowRunsList } from "./FlowRunsList";

export function FlowRunsPage() {
  return (
    <div className="page">
      <header className="page-head">
        <h1>Flow runs</h1>
      </header>
      <FlowRunsList saved />
    </div>
  );
}
