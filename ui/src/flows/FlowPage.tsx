import { useParams } from "react-router";
import { Link } from "react-router";
import { useFlow } from "../api/queries";
import { ErrorBox, KeyValues, Loading, Tags, TimeFull } from "../components/common";
import { FlowRunsList } from "../flow-runs/FlowRunsList";
import { NotifyOnFailure } from "../automations/NotifyOnFailure";

export function FlowPage() {
  const { id = "" } = useParams();
  const flow = useFlow(id);
  if (flow.isPending) return <div className="page"><Loading /></div>;
  if (flow.isError) return <div className="page"><ErrorBox error={flow.error} retry={() => void flow.refetch()} /></div>;
  const f = flow.data;
  return (
    <div className="page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/flows">Flows</Link>
      </nav>
      <header className="page-head">
        <h1>{f.name}</h1>
        <div className="actions">
          <NotifyOnFailure kind="flow" id={f.id} name={f.name} />
        </div>
      </header>
      <KeyValues
        items={[
          ["Flow ID", <code key="id">{f.id}</code>],
          ["Created", <TimeFull key="c" iso={f.created} />],
          ["Tags", f.tags.length ? <Tags key="t" tags={f.tags} /> : "—"],
        ]}
      />
      <h2 className="section-title">Runs</h2>
      <FlowRunsList fixedFlow={f.id} />
    </div>
  );
}
