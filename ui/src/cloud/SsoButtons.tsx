import { useQuery } from "@tanstack/react-query";
import { cloudApi } from "./cloudApi";

/**
 * "Continue with <provider>" for each single-sign-on provider the server
 * has configured. Each is a plain link: the server redirects to the
 * provider and, once signed in, back to the page the user was on.
 */
export function SsoButtons() {
  const providers = useQuery({ queryKey: ["cloud", "providers"], queryFn: () => cloudApi.providers(), retry: false, staleTime: 300_000 });
  const list = providers.data ?? [];
  if (list.length === 0) return null;
  const next = window.location.pathname + window.location.search;
  return (
    <div className="card" style={{ display: "flex", flexDirection: "column", gap: 8, marginBottom: 12 }} aria-label="Single sign-on">
      {list.map((p) => (
        <a key={p.name} className="button" href={`${p.start_url}?next=${encodeURIComponent(next)}`} data-provider={p.name}>
          Continue with {p.display_name}
        </a>
      ))}
    </div>
  );
}
