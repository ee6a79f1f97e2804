import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { ApiError, configureApi } from "../api/client";
import { ErrorBox, Loading } from "../components/common";
import { workspaceBase } from "./commands";
import { cloudApi, setCsrfToken, type MeWorkspace, type Session } from "./cloudApi";
import { isLinkPage, LinkPage } from "./LinkPages";
import { SignInPage } from "./SignInPage";

const STORAGE_KEY = "baton.workspace";

interface CloudState {
  session: Session;
  workspaces: readonly MeWorkspace[];
  current: MeWorkspace | undefined;
  select: (w: MeWorkspace) => void;
  refresh: () => Promise<void>;
}

const CloudContext = createContext<CloudState | null>(null);

/** The session, the caller's workspaces and the current one. */
export function useCloud(): CloudState {
  const c = useContext(CloudContext);
  if (!c) throw new Error("useCloud outside CloudGate");
  return c;
}

const key = (w: MeWorkspace) => `${w.account_id}/${w.workspace_id}`;

/**
 * Gates the app in cloud mode: shows sign-in when there is no session, and
 * points the shared API client at the current workspace with the session's
 * CSRF token. In server mode it renders the app unchanged.
 */
export function CloudGate({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const session = useQuery({ queryKey: ["cloud", "session"], queryFn: () => cloudApi.session(), retry: false, staleTime: 60_000 });
  const signedIn = session.data?.mode === "cloud" && !!session.data.user;
  const workspaces = useQuery({ queryKey: ["cloud", "workspaces"], queryFn: () => cloudApi.myWorkspaces(), enabled: signedIn, retry: false });
  const [chosen, setChosen] = useState<string | null>(() => window.localStorage.getItem(STORAGE_KEY));

  const list = useMemo(() => workspaces.data ?? [], [workspaces.data]);
  const current = list.find((w) => key(w) === chosen) ?? list[0];
  if (signedIn && session.data) {
    setCsrfToken(session.data.csrf_token);
    configureApi(current ? workspaceBase(current.account_id, current.workspace_id) : "/api", { "X-CSRF-Token": session.data.csrf_token });
  }
  const select = useCallback(
    (w: MeWorkspace) => {
      window.localStorage.setItem(STORAGE_KEY, key(w));
      setChosen(key(w));
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== "cloud" });
    },
    [qc],
  );
  const refresh = useCallback(async () => {
    await qc.invalidateQueries({ queryKey: ["cloud"] });
  }, [qc]);

  if (session.isPending) return <Loading label="Checking your session…" />;
  if (isLinkPage(window.location.pathname) && (session.isError || session.data.mode === "cloud")) {
    // An e-mailed link (invitation, password reset) works signed in or out.
    return <LinkPage signedIn={signedIn} onDone={refresh} />;
  }
  if (session.isError) {
    // 401: signed out in cloud mode. Anything else (a server or mock without
    // the endpoint) is treated as server mode.
    if (session.error instanceof ApiError && session.error.status === 401) return <SignInPage onSignedIn={refresh} />;
    return <>{children}</>;
  }
  if (session.data.mode !== "cloud") {
    return <>{children}</>;
  }
  if (!session.data.user) return <SignInPage onSignedIn={refresh} />;
  if (workspaces.isPending) return <Loading label="Loading your workspaces…" />;
  if (workspaces.isError) return <ErrorBox error={workspaces.error} retry={() => void workspaces.refetch()} />;
  return (
    <CloudContext.Provider value={{ session: session.data, workspaces: list, current, select, refresh }}>
      {children}
    </CloudContext.Provider>
  );
}

/** Whether the app runs in cloud mode (inside a signed-in CloudGate). */
export function useOptionalCloud(): CloudState | null {
  return useContext(CloudContext);
}
