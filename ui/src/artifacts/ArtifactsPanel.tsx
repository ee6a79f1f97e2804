// The Artifacts tab of a flow run or task run page.

import { useQuery } from "@tanstack/react-query";
import { contentApi } from "../api/content";
import { Empty, ErrorBox, Loading } from "../components/common";
import { ArtifactList } from "./ArtifactView";

export function ArtifactsPanel({ flowRunId, taskRunId, live }: { flowRunId?: string; taskRunId?: string; live: boolean }) {
  const filter = taskRunId ? { task_run_id: { any_: [taskRunId] } } : { flow_run_id: { any_: [flowRunId ?? ""] } };
  const q = useQuery({
    queryKey: ["artifacts", "of", flowRunId ?? "", taskRunId ?? ""],
    queryFn: ({ signal }) => contentApi.artifacts({ artifacts: filter }, signal),
    refetchInterval: live ? 5000 : false,
  });
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  if (!q.data) return <Loading />;
  if (q.data.length === 0) {
    return (
      <Empty title="No artifacts">
        <p>
          Publish one from the run with <code>create_markdown_artifact(...)</code>, <code>create_table_artifact(...)</code> and the like.
        </p>
      </Empty>
    );
  }
  return <ArtifactList artifacts={q.data} showRun={false} />;
}
