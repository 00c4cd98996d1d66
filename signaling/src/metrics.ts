/** Counters of one server, rendered in the Prometheus text format (version 0.0.4). */
export interface Metrics {
  relayed: number;
  joins: number;
  connections: number;
  readonly rejected: Map<string, number>;
  reject(reason: string): void;
  render(gauges: { peers: number; grids: number }): string;
}

export function createMetrics(): Metrics {
  const rejected = new Map<string, number>();
  return {
    relayed: 0,
    joins: 0,
    connections: 0,
    rejected,
    reject(reason) {
      rejected.set(reason, (rejected.get(reason) ?? 0) + 1);
    },
    render({ peers, grids }) {
      const lines = [
        metric('peergrid_signaling_peers', 'gauge', 'Joined peers.', peers),
        metric('peergrid_signaling_grids', 'gauge', 'Grids with at least one peer.', grids),
        metric(
          'peergrid_signaling_connections',
          'gauge',
          'Open WebSocket connections.',
          this.connections,
        ),
        metric('peergrid_signaling_joins_total', 'counter', 'Successful joins.', this.joins),
        metric(
          'peergrid_signaling_messages_relayed_total',
          'counter',
          'Signals relayed.',
          this.relayed,
        ),
        '# HELP peergrid_signaling_messages_rejected_total Messages or connections refused, by reason.',
        '# TYPE peergrid_signaling_messages_rejected_total counter',
        ...[...rejected].map(
          ([r, n]) => `peergrid_signaling_messages_rejected_total{reason="${r}"} ${n}`,
        ),
        metric(
          'process_resident_memory_bytes',
          'gauge',
          'Resident set size.',
          process.memoryUsage.rss(),
        ),
      ];
      return `${lines.join('\n')}\n`;
    },
  };
}

function metric(name: string, type: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}`;
}
