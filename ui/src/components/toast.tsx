// Short notices after an action ("Flow run cancelled"), announced to screen
// readers through one live region. Errors stay until dismissed.

import { useSyncExternalStore } from "react";

export interface Toast {
  id: number;
  text: string;
  kind: "ok" | "error";
}

let toasts: Toast[] = [];
let seq = 0;
const listeners = new Set<() => void>();

function emit() {
  for (const l of listeners) l();
}

function dismiss(id: number) {
  toasts = toasts.filter((t) => t.id !== id);
  emit();
}

/** Shows a notice; successes fade after 5 s, errors stay until closed. */
export function notify(text: string, kind: Toast["kind"] = "ok") {
  const id = ++seq;
  toasts = [...toasts.slice(-4), { id, text, kind }];
  emit();
  if (kind === "ok") window.setTimeout(() => dismiss(id), 5000);
}

/** Shows an error from an action: the server's message. */
export function notifyError(prefix: string, err: unknown) {
  notify(`${prefix}: ${err instanceof Error ? err.message : String(err)}`, "error");
}

export function Toaster() {
  const list = useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => toasts,
  );
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {list.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`}>
          <span>{t.text}</span>
          <button type="button" className="ghost small" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ✕
          </button>
        </div>
      ))}
    </div>
  );
}
