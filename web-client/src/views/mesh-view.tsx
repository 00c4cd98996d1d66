import { formatBytes, shortId } from '../lib/format.ts';
import { meshLayout } from '../lib/mesh-layout.ts';
import { useMedia, useStore } from '../state/hooks.ts';
import type { PageRuntime } from '../state/runtime.ts';
import type { MeshPeer } from '../state/types.ts';

function capsText(p: MeshPeer): string {
  const c = p.capabilities;
  if (!c) return 'unknown';
  const work = c.maxConcurrency === 0 ? 'not donating' : `${c.maxConcurrency} at once`;
  return `${c.runtime} · ${c.backends.join('/') || '—'} · ${c.cores} cores · ${work}`;
}

export function MeshView({ runtime }: { runtime: PageRuntime }) {
  const grid = useStore(runtime.grid);
  // A narrower drawing on phones keeps labels readable (SVG text scales with the view box).
  const narrow = useMedia('(max-width: 600px)');
  const W = narrow ? 360 : 640;
  const H = narrow ? 320 : 360;
  const placed = meshLayout(grid.peers, W, H);
  const center = placed.find((p) => p.item.self);
  const others = grid.peers.filter((p) => !p.self);
  const refused = Object.entries(grid.links?.refused ?? {});
  const refusedTotal = refused.reduce((n, [, k]) => n + k, 0);
  return (
    <>
      <section className="panel">
        <div className="spread">
          <div>
            <h1>Mesh</h1>
            <p className="muted">
              Peers of grid <b>{grid.grid}</b>. Lines are open data channels from this tab;
              everything else only knows the peer exists.
            </p>
          </div>
          <div className="row">
            <span className="badge" data-testid="mesh-peer-count">
              {others.length} peer{others.length === 1 ? '' : 's'}
            </span>
            <span className="badge ok" data-testid="mesh-connected-count">
              {others.filter((p) => p.connected).length} connected
            </span>
            <span
              className="badge"
              data-testid="mesh-relayed-count"
              title={`${grid.links?.relayRetries ?? 0} direct attempts retried through TURN`}
            >
              {grid.links?.relayedLinks ?? 0} relayed
            </span>
            <span
              className={refusedTotal > 0 ? 'badge bad' : 'badge'}
              data-testid="mesh-refused-count"
              data-codes={refused.map(([c, k]) => `${c}:${k}`).join(' ')}
              title={
                refusedTotal > 0
                  ? `links refused: not bound to the peer's key (${refused.map(([c, k]) => `${c} ×${k}`).join(', ')})`
                  : "no link refused: every channel is bound to its peer's key"
              }
            >
              {refusedTotal} refused
            </span>
          </div>
        </div>
      </section>
      <section className="panel">
        <svg
          className="mesh"
          viewBox={`0 0 ${W} ${H}`}
          role="img"
          aria-label="Peers of the grid"
          data-testid="mesh-graph"
        >
          {center &&
            placed
              .filter((p) => !p.item.self && p.item.connected)
              .map((p) => (
                <line
                  key={`l-${p.item.id}`}
                  x1={center.x}
                  y1={center.y}
                  x2={p.x}
                  y2={p.y}
                  stroke="var(--ok)"
                  strokeWidth={2}
                  opacity={0.7}
                />
              ))}
          {placed.map((p) => {
            const node = p.item.capabilities?.runtime === 'node';
            const r = p.item.self ? 22 : 15;
            return (
              <g
                key={p.item.id}
                data-testid="mesh-node"
                data-peer={p.item.id}
                data-connected={p.item.connected}
              >
                {node ? (
                  <rect
                    x={p.x - r}
                    y={p.y - r}
                    width={2 * r}
                    height={2 * r}
                    rx={5}
                    fill={p.item.self ? 'var(--accent)' : 'var(--panel)'}
                    stroke={p.item.connected || p.item.self ? 'var(--accent)' : 'var(--idle)'}
                    strokeWidth={2.5}
                  />
                ) : (
                  <circle
                    cx={p.x}
                    cy={p.y}
                    r={r}
                    fill={p.item.self ? 'var(--accent)' : 'var(--panel)'}
                    stroke={p.item.connected || p.item.self ? 'var(--accent)' : 'var(--idle)'}
                    strokeWidth={2.5}
                  />
                )}
                <text x={p.x} y={p.y + r + 14} textAnchor="middle">
                  {p.item.self ? 'this tab' : shortId(p.item.id)}
                </text>
              </g>
            );
          })}
          {grid.peers.length === 0 && (
            <text x={W / 2} y={H / 2} textAnchor="middle">
              Not joined yet
            </text>
          )}
        </svg>
        <div className="legend" style={{ marginTop: 8 }}>
          <span>
            <i style={{ background: 'var(--accent)', borderRadius: '50%' }} />
            browser tab
          </span>
          <span>
            <i style={{ background: 'var(--accent)' }} />
            Node worker
          </span>
          <span>
            <i style={{ background: 'var(--ok)', height: 3 }} />
            data channel
          </span>
        </div>
      </section>
      <section className="panel">
        <h2>Peers</h2>
        {others.length === 0 ? (
          <p className="empty">
            No other peers in this grid yet. Open the page in another tab to add one.
          </p>
        ) : (
          <div className="table-wrap">
            <table data-testid="mesh-table">
              <thead>
                <tr>
                  <th>Peer</th>
                  <th>Capabilities</th>
                  <th className="hide-sm">Memory</th>
                  <th>Link</th>
                </tr>
              </thead>
              <tbody>
                {others.map((p) => (
                  <tr key={p.id} data-testid="mesh-peer" data-peer={p.id}>
                    <td>
                      <code title={p.id}>{shortId(p.id)}</code>
                    </td>
                    <td>{capsText(p)}</td>
                    <td className="hide-sm">
                      {p.capabilities ? `${p.capabilities.memoryMB} MiB` : '—'}
                    </td>
                    <td>
                      {p.connected ? (
                        <span className="badge ok">
                          open{p.bytes ? ` · ${formatBytes(p.bytes)}` : ''}
                        </span>
                      ) : (
                        <span className="badge">known</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
