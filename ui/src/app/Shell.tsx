import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, NavLink, Outlet } from "react-router";
import { api } from "../api/client";
import { Empty } from "../components/common";
import { WorkspaceSwitcher } from "../cloud/WorkspaceSwitcher";
import { applyTheme, nextTheme, readTheme, type ThemeChoice } from "../lib/theme";

interface NavItem {
  to: string;
  label: string;
  /** False for sections whose pages arrive with later work; shown but not linked. */
  ready: boolean;
}

/** The sidebar. Later sections flip ready to true and add their routes in App. */
export const NAV: readonly NavItem[] = [
  { to: "/dashboard", label: "Dashboard", ready: true },
  { to: "/runs", label: "Runs", ready: true },
  { to: "/flows", label: "Flows", ready: true },
  { to: "/deployments", label: "Deployments", ready: false },
  { to: "/work-pools", label: "Work pools", ready: false },
  { to: "/events", label: "Events", ready: true },
  { to: "/workspaces", label: "Workspaces", ready: true },
  { to: "/api-keys", label: "API keys", ready: true },
];

const THEME_LABEL: Record<ThemeChoice, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

export function Shell() {
  const [theme, setTheme] = useState<ThemeChoice>(readTheme);
  const health = useQuery({
    queryKey: ["health"],
    queryFn: ({ signal }) => api.health(signal),
    refetchInterval: 15_000,
    retry: false,
  });
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <Link to="/dashboard" className="brand" aria-label="Baton home">
          <svg viewBox="0 0 32 32" width="24" height="24" aria-hidden="true">
            <rect width="32" height="32" rx="7" fill="var(--accent)" />
            <path d="M9 23 23 9" stroke="#fff" strokeWidth="4" strokeLinecap="round" />
            <circle cx="23" cy="9" r="3.5" fill="#ffd43b" />
          </svg>
          <span>Baton</span>
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) =>
              item.ready ? (
                <li key={item.to}>
                  <NavLink to={item.to} className={({ isActive }) => (isActive ? "nav-link active" : "nav-link")}>
                    {item.label}
                  </NavLink>
                </li>
              ) : (
                <li key={item.to}>
                  <span className="nav-link soon" title="Coming soon">
                    {item.label}
                    <small>soon</small>
                  </span>
                </li>
              ),
            )}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <WorkspaceSwitcher />
          <span className={`health ${health.isError ? "down" : health.isSuccess ? "up" : ""}`} role="status">
            {health.isError ? "API unreachable" : health.isSuccess ? "API connected" : "Connecting…"}
          </span>
          <button
            type="button"
            className="ghost"
            onClick={() => {
              const t = nextTheme(theme);
              applyTheme(t);
              setTheme(t);
            }}
          >
            {THEME_LABEL[theme]}
          </button>
        </div>
      </aside>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

export function NotFound() {
  return (
    <div className="page">
      <Empty title="Page not found">
        <Link to="/dashboard">Back to the dashboard</Link>
      </Empty>
    </div>
  );
}
