import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { startRuntime } from './state/start-runtime.ts';
import './styles.css';

performance.mark('peergrid:script-start');
const runtime = startRuntime(window.location);
(window as unknown as { peergrid: unknown }).peergrid = runtime;
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App runtime={runtime} />
    </StrictMode>,
  );
}
