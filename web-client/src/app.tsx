import { lazy, Suspense } from 'react';
import { routeHash } from './lib/route.ts';
import { useRoute, useStore } from './state/hooks.ts';
import type { PageRuntime } from './state/runtime.ts';
import { DonateView } from './views/donate-view.tsx';

// The Donate view is where a volunteer lands; the others load when first shown, so a
// joining tab compiles only what it shows.
const SubmitView = lazy(() =>
  import('./views/submit-view.tsx').then((m) => ({ default: m.SubmitView })),
);
const JobsView = lazy(() => import('./views/jobs-view.tsx').then((m) => ({ default: m.JobsView })));
const JobView = lazy(() => import('./views/job-view.tsx').then((m) => ({ default: m.JobView })));
const MeshView = lazy(() => import('./views/mesh-view.tsx').then((m) => ({ default: m.MeshView })));

const TABS = [
  { view: 'donate', label: 'Donate' },
  { view: 'submit', label: 'Submit' },
  { view: 'jobs', label: 'Jobs' },
  { view: 'mesh', label: 'Mesh' },
] as const;

const SIGNAL_TEXT = {
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  error: 'Cannot join',
} as const;

export function App({ runtime }: { runtime: PageRuntime }) {
  const route = useRoute();
  const grid = useStore(runtime.grid);
  const active = route.view === 'job' ? 'jobs' : route.view;
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <Logo />
          <span>PeerGrid</span>
        </div>
        <nav className="nav" aria-label="Views">
          {TABS.map((t) => (
            <a
              key={t.view}
              href={routeHash({ view: t.view })}
              aria-current={active === t.view ? 'page' : undefined}
              data-testid={`nav-${t.view}`}
            >
              {t.label}
            </a>
          ))}
        </nav>
        <div className="conn" title={grid.signalError ?? grid.signalUrl}>
          <span className={`dot ${grid.signal}`} />
          <span data-testid="signal-status" data-status={grid.signal}>
            {SIGNAL_TEXT[grid.signal]}
          </span>
          <span className="badge" data-testid="grid-name">
            grid: {grid.grid}
          </span>
        </div>
      </header>
      <main>
        <Suspense fallback={<p className="muted">Loading…</p>}>
          {route.view === 'donate' && <DonateView runtime={runtime} />}
          {route.view === 'submit' && <SubmitView runtime={runtime} />}
          {route.view === 'jobs' && <JobsView runtime={runtime} />}
          {route.view === 'job' && <JobView runtime={runtime} id={route.id} />}
          {route.view === 'mesh' && <MeshView runtime={runtime} />}
        </Suspense>
      </main>
    </div>
  );
}

function Logo() {
  return (
    <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="var(--accent)" />
      <g stroke="#fff" strokeWidth="1.6" opacity="0.7">
        <line x1="9" y1="9" x2="23" y2="9" />
        <line x1="9" y1="9" x2="9" y2="23" />
        <line x1="23" y1="9" x2="23" y2="23" />
        <line x1="9" y1="23" x2="23" y2="23" />
        <line x1="9" y1="9" x2="23" y2="23" />
      </g>
      <g fill="#fff">
        <circle cx="9" cy="9" r="3" />
        <circle cx="23" cy="9" r="3" />
        <circle cx="9" cy="23" r="3" />
        <circle cx="23" cy="23" r="3" />
      </g>
    </svg>
  );
}
