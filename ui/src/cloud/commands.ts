// The exact commands that connect a machine to a workspace, shown on the
// workspace page.

/** The API root a cloud client points PREFECT_CLOUD_API_URL / --url at. */
export function cloudApiUrl(origin: string): string {
  return origin.replace(/\/+$/, "") + "/api";
}

/** The shell lines for the Prefect CLI and for Baton's CLI. */
export function loginCommands(origin: string, accountHandle: string, workspaceHandle: string): { prefect: string; baton: string } {
  const api = cloudApiUrl(origin);
  const w = `${accountHandle}/${workspaceHandle}`;
  return {
    prefect: `PREFECT_CLOUD_API_URL=${api} prefect cloud login --key <YOUR-KEY> -w ${w}`,
    baton: `baton cloud login --url ${api} --key <YOUR-KEY> -w ${w}`,
  };
}

/** The workspace-scoped API base the data pages use. */
export function workspaceBase(accountId: string, workspaceId: string): string {
  return `/api/accounts/${accountId}/workspaces/${workspaceId}`;
}
