// Matching for the command palette's local entries (pages): every word typed
// must start a word of the label or keywords; an empty query lists them all.

export interface PaletteItem {
  kind: string;
  label: string;
  to: string;
  keywords?: string;
}

export function paletteMatches(items: readonly PaletteItem[], text: string): PaletteItem[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...items];
  return items.filter((it) => {
    const hay = `${it.label} ${it.keywords ?? ""}`.toLowerCase().split(/[\s/_-]+/);
    return words.every((w) => hay.some((h) => h.startsWith(w)));
  });
}
