// The one place a page is registered: its route and, optionally, its
// sidebar entry. App builds the router from PAGES, Shell builds the sidebar
// from the entries with a nav, and the command palette offers them too.
// To add a page: import it here and add one object (keep the list sorted by
// area; nav entries are ordered by `order`, not by position).

import type { ReactNode } from "react";
import { Navigate } from "react-router";
import { AutomationCreatePage, AutomationEditPage, AutomationPage, AutomationsPage } from "../automations/AutomationsPages";
import { WebhooksPage } from "../automations/WebhooksPage";
import { ArtifactKeyPage, ArtifactPage, ArtifactsPage } from "../artifacts/ArtifactsPages";
import { BlockCatalogPage, BlockCreatePage, BlockEditPage, BlockPage, BlocksPage } from "../blocks/BlocksPages";
import { ApiKeysPage } from "../cloud/ApiKeysPage";
import { ServiceAccountsPage } from "../cloud/ServiceAccountsPage";
import { AuditLogPage } from "../cloud/AuditLogPage";
import { SecurityPage } from "../cloud/SecurityPage";
import { TeamsPage } from "../cloud/TeamsPage";
import { WorkspacePage, WorkspacesPage } from "../cloud/WorkspacesPage";
import { ConcurrencyPage } from "../concurrency/ConcurrencyPage";
import { DashboardPage } from "../dashboard/DashboardPage";
import { CustomRunPage } from "../deployments/CustomRunPage";
import { DeploymentPage } from "../deployments/DeploymentPage";
import { DeploymentsPage } from "../deployments/DeploymentsPage";
import { EventsPage } from "../events/EventsPage";
import { FlowRunPage } from "../flow-runs/FlowRunPage";
import { FlowRunsPage } from "../flow-runs/FlowRunsPage";
import { FlowPage } from "../flows/FlowPage";
import { FlowsPage } from "../flows/FlowsPage";
import { SettingsPage } from "../settings/SettingsPage";
import { TaskRunPage } from "../task-runs/TaskRunPage";
import { WorkPoolPage } from "../work-pools/WorkPoolPage";
import { VariablesPage } from "../variables/VariablesPage";
import { WorkPoolsPage } from "../work-pools/WorkPoolsPage";
import { PrefectRedirect, WorkQueueRedirect, WorkspaceLink } from "./PrefectLinks";

export interface NavEntry {
  label: string;
  /** Position in the sidebar: 10s for run views, 30s for configuration, 50s for events, 80s for account, 90s for settings. */
  order: number;
  /** Where the link points when it differs from the page path (no route parameters in nav paths). */
  to?: string;
  /** Only shown in cloud mode (workspaces, API keys, members). */
  cloudOnly?: boolean;
  /** Extra words the command palette matches ("queues" finds Work pools). */
  keywords?: string;
}

export interface PageDef {
  /** Route path without the leading slash; ":id"-style parameters allowed. */
  path: string;
  element: ReactNode;
  nav?: NavEntry;
}

export const PAGES: PageDef[] = [
  { path: "", element: <Navigate to="/dashboard" replace /> },
  { path: "dashboard", element: <DashboardPage />, nav: { label: "Dashboard", order: 10 } },
  { path: "runs", element: <FlowRunsPage />, nav: { label: "Runs", order: 12, keywords: "flow runs" } },
  { path: "runs/flow-run/:id", element: <FlowRunPage /> },
  { path: "runs/task-run/:id", element: <TaskRunPage /> },
  { path: "flows", element: <FlowsPage />, nav: { label: "Flows", order: 14 } },
  { path: "flows/flow/:id", element: <FlowPage /> },
  { path: "deployments", element: <DeploymentsPage />, nav: { label: "Deployments", order: 20, keywords: "schedules" } },
  { path: "deployments/deployment/:id", element: <DeploymentPage /> },
  { path: "deployments/deployment/:id/run", element: <CustomRunPage /> },
  { path: "work-pools", element: <WorkPoolsPage />, nav: { label: "Work pools", order: 22, keywords: "queues workers" } },
  { path: "work-pools/work-pool/:name", element: <WorkPoolPage /> },
  { path: "blocks", element: <BlocksPage />, nav: { label: "Blocks", order: 30, keywords: "secrets credentials storage" } },
  { path: "blocks/catalog", element: <BlockCatalogPage /> },
  { path: "blocks/catalog/:slug/create", element: <BlockCreatePage /> },
  { path: "blocks/block/:id", element: <BlockPage /> },
  { path: "blocks/block/:id/edit", element: <BlockEditPage /> },
  { path: "variables", element: <VariablesPage />, nav: { label: "Variables", order: 32, keywords: "settings config" } },
  { path: "artifacts", element: <ArtifactsPage />, nav: { label: "Artifacts", order: 16, keywords: "reports tables markdown" } },
  { path: "artifacts/key/:key", element: <ArtifactKeyPage /> },
  { path: "artifacts/artifact/:id", element: <ArtifactPage /> },
  { path: "concurrency-limits", element: <ConcurrencyPage />, nav: { label: "Concurrency", order: 34, keywords: "limits slots tags" } },
  { path: "automations", element: <AutomationsPage />, nav: { label: "Automations", order: 52, keywords: "notifications alerts triggers" } },
  { path: "automations/create", element: <AutomationCreatePage /> },
  { path: "automations/automation/:id", element: <AutomationPage /> },
  { path: "automations/automation/:id/edit", element: <AutomationEditPage /> },
  { path: "automations/webhooks", element: <WebhooksPage />, nav: { label: "Webhooks", order: 53, keywords: "inbound webhooks hooks external events" } },
  { path: "events", element: <EventsPage />, nav: { label: "Events", order: 50 } },
  { path: "workspaces", element: <WorkspacesPage />, nav: { label: "Workspaces", order: 80 } },
  { path: "workspaces/:accountId/:workspaceId", element: <WorkspacePage /> },
  { path: "api-keys", element: <ApiKeysPage />, nav: { label: "API keys", order: 82 } },
  { path: "service-accounts", element: <ServiceAccountsPage />, nav: { label: "Service accounts", order: 84, cloudOnly: true, keywords: "bots robots machine keys ci" } },
  { path: "members", element: <TeamsPage />, nav: { label: "Members and teams", order: 85, cloudOnly: true, keywords: "invite invitations people users teams groups" } },
  { path: "audit-log", element: <AuditLogPage />, nav: { label: "Audit log", order: 86, cloudOnly: true, keywords: "history who did what security events" } },
  { path: "security", element: <SecurityPage />, nav: { label: "Security", order: 87, cloudOnly: true, keywords: "sessions two-factor 2fa totp mfa password" } },
  // Links Prefect prints under other paths than Baton's (prefectLinks.ts).
  { path: "flow-runs", element: <PrefectRedirect /> },
  { path: "flow-runs/flow-run/:id", element: <PrefectRedirect /> },
  { path: "work-pools/work-pool/:name/worker/:id", element: <PrefectRedirect /> },
  { path: "work-queues/work-queue/:id", element: <WorkQueueRedirect /> },
  { path: "concurrency-limits/concurrency-limit/:id", element: <PrefectRedirect /> },
  { path: "events/event/:day/:id", element: <PrefectRedirect /> },
  { path: "settings/blocks/*", element: <PrefectRedirect /> },
  { path: "account/:accountId/workspace/:workspaceId/*", element: <WorkspaceLink /> },
  { path: "settings", element: <SettingsPage />, nav: { label: "Settings", order: 90, keywords: "time zone clock theme preferences" } },
];

/** The sidebar entries in order, with their link targets. */
export function navItems(): (NavEntry & { to: string })[] {
  return PAGES.filter((p): p is PageDef & { nav: NavEntry } => p.nav !== undefined)
    .map((p) => ({ ...p.nav, to: p.nav.to ?? `/${p.path}` }))
    .sort((a, b) => a.order - b.order);
}
