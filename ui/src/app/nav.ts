/**
 * The sidebar entry to highlight for a path: the one whose target is the
 * path or its longest prefix at a segment boundary, so that on
 * /automations/webhooks only "Webhooks" is current, not "Automations" too.
 */
export function activeNavTo(pathname: string, targets: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const to of targets) {
    const base = to.replace(/\/+$/, "");
    if (pathname === base || pathname.startsWith(base + "/")) {
      if (best === undefined || base.length > best.replace(/\/+$/, "").length) best = to;
    }
  }
  return best;
}
