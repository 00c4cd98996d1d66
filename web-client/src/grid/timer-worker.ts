/**
 * A dedicated worker that keeps time for a hidden tab: Chromium throttles a
 * hidden page's own timers (to once a second at first, to once a minute for
 * chained timers after five minutes), but not a dedicated worker's. The page
 * asks for a timeout here; the worker posts back when it is due.
 */
type Ask = { readonly set: number; readonly ms: number } | { readonly clear: number };

const due = new Map<number, ReturnType<typeof setTimeout>>();
self.onmessage = (e: MessageEvent<Ask>) => {
  const m = e.data;
  if ('set' in m) {
    due.set(
      m.set,
      setTimeout(() => {
        due.delete(m.set);
        postMessage(m.set);
      }, m.ms),
    );
  } else {
    clearTimeout(due.get(m.clear));
    due.delete(m.clear);
  }
};
