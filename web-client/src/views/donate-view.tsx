import { useCallback } from 'react';
import { CreditChart } from '../components/credit-chart.tsx';
import { Stat } from '../components/stat.tsx';
import { backendLabel } from '../lib/backend-label.ts';
import { formatMs, shortId } from '../lib/format.ts';
import { useStore, useTicker } from '../state/hooks.ts';
import type { PageRuntime } from '../state/runtime.ts';

export function DonateView({ runtime }: { runtime: PageRuntime }) {
  const donor = useStore(runtime.donor);
  const grid = useStore(runtime.grid);
  const now = useTicker(1000);
  const backend = backendLabel(donor.backends, donor.gpuAdapter, donor.threads, donor.isolated);
  const others = grid.peers.filter((p) => !p.self);
  const connected = others.filter((p) => p.connected).length;
  const state = donor.paused ? 'paused' : grid.signal === 'online' ? 'donating' : 'waiting';
  const loadHistory = useCallback(() => runtime.creditHistory(), [runtime]);
  return (
    <>
      <section className="panel hero">
        <div className="lead">
          <div className="row">
            <span
              className={`badge ${state === 'donating' ? 'ok' : state === 'paused' ? 'warn' : ''}`}
              data-testid="donor-state"
              data-state={state}
            >
              {state === 'donating'
                ? 'Donating'
                : state === 'paused'
                  ? 'Paused'
                  : 'Waiting for the grid'}
            </span>
            <span className="muted small">
              grid <b>{grid.grid}</b>
            </span>
          </div>
          <h1>
            {donor.paused
              ? `Donation paused (${donor.pauseReason ?? 'paused'}) — this tab runs nothing.`
              : grid.signal === 'error'
                ? 'This tab cannot join the grid.'
                : 'This tab lends its compute to the grid.'}
          </h1>
          <p className="muted">
            Tasks are ONNX models run in sandboxed workers; no code from others runs here. Close the
            tab to stop.
          </p>
        </div>
        <button
          type="button"
          className={`btn big ${donor.paused ? 'primary' : 'warn'}`}
          data-testid="pause-button"
          aria-pressed={donor.paused}
          onClick={() => (donor.paused ? runtime.resume() : runtime.pause())}
        >
          {donor.paused ? '▶ Resume' : '❚❚ Pause'}
        </button>
      </section>

      {grid.signalError && grid.signal !== 'online' && (
        <div
          className={`alert ${grid.signal === 'error' ? 'bad' : 'warn'}`}
          role="status"
          data-testid="signal-error"
        >
          {grid.signal === 'error' ? 'Cannot join the grid' : 'Reconnecting to the grid'}:{' '}
          {grid.signalError}
        </div>
      )}
      <section className="panel">
        <div className="stats">
          <Stat
            label="Backend"
            value={
              <span data-testid="backend" data-backend={donor.backends[0] ?? 'wasm'}>
                {backend.title}
              </span>
            }
            hint={<span data-testid="backend-detail">{backend.detail}</span>}
          />
          <Stat
            label="Tasks done"
            value={donor.tasksDone}
            testId="tasks-done"
            hint={donor.tasksFailed ? `${donor.tasksFailed} failed` : 'results returned'}
          />
          <Stat
            label="Verified compute"
            value={formatMs(donor.verifiedMs)}
            testId="verified-time"
            hint={
              `${formatMs(donor.computeMs)} computed` +
              (donor.rejected ? `, ${donor.rejected} rejected` : '')
            }
          />
          <Stat
            label="Peers"
            value={others.length}
            testId="peer-count"
            hint={<span data-testid="connection-count">{connected} connected</span>}
          />
        </div>
      </section>

      <div className="grid-2">
        <section className="panel">
          <h2>Current work</h2>
          <div data-testid="current-task" data-busy={donor.current.length > 0}>
            {donor.current.length === 0 ? (
              <p className="muted">
                {donor.paused
                  ? 'Paused.'
                  : donor.cpuShare < 1 && donor.measuredShare > 0
                    ? `Resting: at most ${Math.round(donor.cpuShare * 100)} % of the time computing.`
                    : 'Idle — waiting for a task.'}
              </p>
            ) : (
              <div className="stack">
                {donor.current.map((t, i) => (
                  <div key={`${t.from}:${t.leaseId || i}`} className="spread">
                    <span>
                      model <code>{t.modelHash.slice(0, 8)}</code>
                      {t.leaseId && (
                        <>
                          {' '}
                          lease <code>{t.leaseId.slice(0, 6)}</code>
                        </>
                      )}{' '}
                      <span className="muted small">for {shortId(t.from)}</span>
                    </span>
                    <span className="badge accent">{formatMs(now - t.startedAt)}</span>
                  </div>
                ))}
              </div>
            )}
          </div>
          <p className="muted small" style={{ marginTop: 12 }}>
            Your id: <code data-testid="self-id">{grid.selfId ? shortId(grid.selfId) : '—'}</code>
          </p>
        </section>

        <section className="panel stack">
          <h2>Controls</h2>
          <div className="field">
            <label htmlFor="workers">
              Workers: <span data-testid="workers-value">{donor.workers}</span> of{' '}
              {donor.maxWorkers}
            </label>
            <input
              id="workers"
              type="range"
              min={1}
              max={Math.max(1, donor.maxWorkers)}
              value={donor.workers}
              data-testid="workers-input"
              onChange={(e) => runtime.setWorkers(Number(e.target.value))}
            />
            <span className="hint">Tasks this tab runs at once (one Web Worker each).</span>
          </div>
          <div className="field">
            <label htmlFor="cpu-share">
              CPU share:{' '}
              <span data-testid="cpu-share-value">{Math.round(donor.cpuShare * 100)} %</span>{' '}
              <span className="muted small" data-testid="cpu-share-measured">
                (now {Math.round(donor.measuredShare * 100)} %)
              </span>
            </label>
            <input
              id="cpu-share"
              type="range"
              min={5}
              max={100}
              step={5}
              value={Math.round(donor.cpuShare * 100)}
              data-testid="cpu-share-input"
              onChange={(e) => runtime.setCpuShare(Number(e.target.value) / 100)}
            />
            <span className="hint">
              Each worker computes at most this share of the time and rests the rest (after a task
              of t s, it rests t·(100 − N)/N s): {donor.workers} worker
              {donor.workers === 1 ? '' : 's'} at {Math.round(donor.cpuShare * 100)} % keep at most{' '}
              {(donor.workers * donor.cpuShare).toFixed(donor.cpuShare < 1 ? 2 : 0)}{' '}
              {donor.workers * donor.cpuShare === 1 ? 'core' : 'cores'} busy.
            </span>
          </div>
          {donor.batterySupported && (
            <label className="switch">
              <input
                type="checkbox"
                checked={donor.onlyWhileCharging}
                data-testid="charging-toggle"
                onChange={(e) => runtime.setOnlyWhileCharging(e.target.checked)}
              />
              Only while charging
            </label>
          )}
          <label className="switch">
            <input
              type="checkbox"
              checked={donor.pauseWhileInUse}
              data-testid="in-use-toggle"
              onChange={(e) => void runtime.setPauseWhileInUse(e.target.checked)}
            />
            Pause while I use this computer
          </label>
          {donor.pauseWhileInUse && (
            <p className="muted small" data-testid="in-use-source" data-source={donor.inUseSource}>
              {donor.inUseSource === 'idle-detection'
                ? 'Idle Detection: paused while anyone uses this computer, resumed a minute after.'
                : 'Idle Detection not granted: paused while this tab sees input, resumed a minute after.'}
            </p>
          )}
          <p className="muted small">
            Pausing hands queued tasks back at once; running ones finish. Submitters re-issue them
            elsewhere, and nothing counts against this tab.
          </p>
          <label className="switch">
            <input
              type="checkbox"
              checked={donor.gpuEnabled}
              data-testid="gpu-toggle"
              onChange={(e) => runtime.setGpu(e.target.checked)}
            />
            Use the GPU (WebGPU) when available
          </label>
          <p className="muted small">
            {donor.gpuAdapter
              ? `Adapter: ${donor.gpuAdapter}`
              : 'No WebGPU adapter on this device: WASM on the CPU.'}
          </p>
        </section>
      </div>

      <section className="panel">
        <h2>Your verified compute</h2>
        <CreditChart load={loadHistory} />
      </section>
    </>
  );
}
