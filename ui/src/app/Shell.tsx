import { useQuery } from "@tanstack/react-query";
import { useEffect, useState, useSyncExternalStore } from "react";
import { Link, Outlet, useLocation } from "react-router";
import { api } from "../api/client";
import { useOptionalCloud } from "../cloud/CloudGate";
import { WorkspaceSwitcher } from "../cloud/WorkspaceSwitcher";
import { Empty } from "../components/common";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { Toaster } from "../components/toast";
import { handleListKey } from "../lib/keynav";
import { applyTheme, nextTheme, readTheme, type ThemeChoice } from "../lib/theme";
import { getTimePrefs, subscribeTimePrefs } from "../lib/timePrefs";
import { CommandPalette } from "../palette/CommandPalette";
import { activeNavTo } from "./nav";
import { navItems } from "./pages";

const THEME_LABEL: Record<ThemeChoice, string> = { system: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

/** The frame around every page: sidebar (from PAGES), command palette, list keys, notices. */
export function Shell() {
  const [theme, setTheme] = useState<ThemeChoice>(readTheme);
  const [palette, setPalette] = useState(false);
  const cloud = useOptionalCloud();
  const location = useLocation();
  // A new time zone or clock re-renders every page (the key changes).
  const prefs = useSyncExternalStore(subscribeTimePrefs, getTimePrefs);
  const health = useQuery({
    queryKey: ["health"],
    queryFn: ({ signal }) => api.health(signal),
    refetchInterval: 15_000,
    retry: false,
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
        e.preventDefault();
        setPalette(true);
        return;
      }
      if (handleListKey(e)) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  const items = navItems().filter((n) => !n.cloudOnly || cloud);
  // One entry is current: the most specific one (Webhooks, not Automations too).
  const active = activeNavTo(location.pathname, items.map((i) => i.to));
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
        <button type="button" className="palette-open" onClick={() => setPalette(true)} aria-keyshortcuts="Control+K Meta+K">
          <span>Go to…</span>
          <kbd>Ctrl K</kbd>
        </button>
        <nav aria-label="Main">
          <ul>
            {items.map((item) => (
              <li key={item.to}>
                <Link
                  to={item.to}
                  className={item.to === active ? "nav-link active" : "nav-link"}
                  aria-current={item.to === active ? "page" : undefined}
                >
                  {item.label}
                </Link>
              </li>
            ))}
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
        {health.isError && (
          <div className="offline-banner" role="alert">
            <span>Lost the connection to the Baton server ({health.error.message}). Pages keep their last data and retry on their own.</span>
            <button type="button" className="small" onClick={() => void health.refetch()} disabled={health.isFetching}>
              {health.isFetching ? "Retrying…" : "Retry now"}
            </button>
          </div>
        )}
        <ErrorBoundary key={location.pathname}>
          <Outlet key={`${prefs.timeZone}|${prefs.clock}`} />
        </ErrorBoundary>
      </main>
      <CommandPalette open={palette} onClose={() => setPalette(false)} />
      <Toaster />
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
