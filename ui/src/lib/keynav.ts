// Keyboard navigation on lists: j / k move between the rows of the list
// marked data-keynav on the page, Enter opens the row's first link (the
// browser does that once the link has focus), x toggles its checkbox.

function typing(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (el as HTMLElement).isContentEditable;
}

/** Handles one keydown; returns true when it moved or toggled something. */
export function handleListKey(e: KeyboardEvent, doc: Document = document): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(doc.activeElement) || doc.querySelector("dialog[open]")) return false;
  if (e.key !== "j" && e.key !== "k" && e.key !== "x") return false;
  const list = doc.querySelector("[data-keynav]");
  if (!list) return false;
  const rows = [...list.querySelectorAll<HTMLElement>("tbody tr, :scope > li")];
  if (rows.length === 0) return false;
  const current = rows.findIndex((r) => r.contains(doc.activeElement));
  if (e.key === "x") {
    const box = current >= 0 ? rows[current]?.querySelector<HTMLInputElement>("input[type=checkbox]") : null;
    if (!box) return false;
    box.click();
    return true;
  }
  const next = e.key === "j" ? Math.min(rows.length - 1, current + 1) : Math.max(0, current - 1);
  const target = rows[current < 0 ? 0 : next]?.querySelector<HTMLElement>("a, button, input");
  if (!target) return false;
  target.focus();
  target.scrollIntoView({ block: "nearest" });
  return true;
}
