import { Navigate, Route, Routes } from "react-router";
import { DashboardPage } from "../dashboard/DashboardPage";
import { EventsPage } from "../events/EventsPage";
import { FlowRunPage } from "../flow-runs/FlowRunPage";
import { FlowRunsPage } from "../flow-runs/FlowRunsPage";
import { FlowPage } from "../flows/FlowPage";
import { FlowsPage } from "../flows/FlowsPage";
import { TaskRunPage } from "../task-runs/TaskRunPage";
import { NotFound, Shell } from "./Shell";
import { ApiKeysPage } from "../cloud/ApiKeysPage";
import { CloudGate } from "../cloud/CloudGate";
import { WorkspacePage, WorkspacesPage } from "../cloud/WorkspacesPage";

/** The route table. Pages for deployments, work pools, workspaces and API keys slot in here and in NAV. */
export function App() {
  return (
    <CloudGate>
      <Routes>
        <Route element={<Shell />}>
          <Route index element={<Navigate to="/dashboard" replace />} />
          <Route path="dashboard" element={<DashboardPage />} />
          <Route path="runs" element={<FlowRunsPage />} />
          <Route path="runs/flow-run/:id" element={<FlowRunPage />} />
          <Route path="runs/task-run/:id" element={<TaskRunPage />} />
          <Route path="flows" element={<FlowsPage />} />
          <Route path="flows/flow/:id" element={<FlowPage />} />
          <Route path="events" element={<EventsPage />} />
          <Route path="workspaces" element={<WorkspacesPage />} />
          <Route path="workspaces/:accountId/:workspaceId" element={<WorkspacePage />} />
          <Route path="api-keys" element={<ApiKeysPage />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </CloudGate>
  );
}
