/** The page's views, addressed by the URL hash so reloads and links keep the view. */
export type Route =
  | { readonly view: 'donate' }
  | { readonly view: 'submit' }
  | { readonly view: 'jobs' }
  | { readonly view: 'job'; readonly id: string }
  | { readonly view: 'mesh' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const [head, id] = parts;
  if (head === 'submit') return { view: 'submit' };
  if (head === 'mesh') return { view: 'mesh' };
  if (head === 'jobs' && id && /^[A-Za-z0-9_-]{1,128}$/.test(id)) return { view: 'job', id };
  if (head === 'jobs') return { view: 'jobs' };
  return { view: 'donate' };
}

export function routeHash(r: Route): string {
  return r.view === 'job' ? `#/jobs/${r.id}` : `#/${r.view}`;
}
