/**
 * The submitter side of the task protocol, for the job engine's glue: send an
 * `assign` on a donor link, then hear exactly one `errored` or `reported`
 * event per lease (after an `acked`), never silence: timeouts and a closed
 * link end a lease with an error.
 */
import type { Backend, PeerId } from '../contracts.ts';
import type { WireError } from '../errors.ts';
import type { Timers } from '../platform.ts';
import type { TensorMap } from '../tensor.ts';
import type { PeerLink } from './link.ts';
import type { AssignMessage, PeerMessage } from './messages.ts';

export interface TaskReport {
  readonly outputs: TensorMap;
  /** Only from version 1 donors; never trusted (a donor vouching for itself). */
  readonly digest?: string;
  readonly computeMs: number;
  readonly backend: Backend;
}

export type TaskClientEvent =
  | { readonly type: 'acked'; readonly leaseId: string; readonly peerId: PeerId }
  | {
      readonly type: 'reported';
      readonly leaseId: string;
      readonly peerId: PeerId;
      readonly report: TaskReport;
    }
  | {
      readonly type: 'errored';
      readonly leaseId: string;
      readonly peerId: PeerId;
      readonly error: WireError;
    };

export interface TaskClientOptions {
  readonly timers: Timers;
  /** Hears every lease event. */
  readonly onEvent?: (event: TaskClientEvent) => void;
  /** No `ack` by then → `errored` with `ack-timeout`. Default 10 000 ms. */
  readonly ackTimeoutMs?: number;
  /** Added to the lease's `deadlineMs` before giving up with `deadline`. Default 5 000 ms. */
  readonly graceMs?: number;
}

export interface TaskClient {
  /** Sends the assign; resolves with the final event of the lease (`reported` or `errored`). */
  assign(link: PeerLink, msg: Omit<AssignMessage, 'type'>): Promise<TaskClientEvent>;
  /** Sends `cancel` and ends the lease with `errored`/`cancelled`. */
  cancel(leaseId: string): void;
  /** Leases awaiting their end. */
  readonly pending: number;
}

interface Pending {
  readonly link: PeerLink;
  readonly leaseId: string;
  timer: unknown;
  readonly deadlineMs: number;
  resolve(ev: TaskClientEvent): void;
}

export function createTaskClient(opts: TaskClientOptions): TaskClient {
  const { timers } = opts;
  const ackTimeoutMs = opts.ackTimeoutMs ?? 10_000;
  const graceMs = opts.graceMs ?? 5_000;
  const leases = new Map<string, Pending>();
  const attached = new WeakSet<PeerLink>();

  const emit = (ev: TaskClientEvent) => {
    try {
      opts.onEvent?.(ev);
    } catch {
      // The engine's bug must not break the link.
    }
  };

  function end(p: Pending, ev: TaskClientEvent): void {
    if (leases.get(p.leaseId) !== p) return;
    leases.delete(p.leaseId);
    timers.clearTimeout(p.timer);
    emit(ev);
    p.resolve(ev);
  }
  const errored = (p: Pending, code: string, message: string) =>
    end(p, {
      type: 'errored',
      leaseId: p.leaseId,
      peerId: p.link.remoteId,
      error: { code, message },
    });

  function onMessage(link: PeerLink, msg: PeerMessage): void {
    if (msg.type !== 'ack' && msg.type !== 'result' && msg.type !== 'error') return;
    const p = leases.get(msg.leaseId);
    if (!p || p.link !== link) return;
    if (msg.type === 'ack') {
      timers.clearTimeout(p.timer);
      p.timer = timers.setTimeout(
        () => errored(p, 'deadline', `no result within ${p.deadlineMs + graceMs} ms`),
        p.deadlineMs + graceMs,
      );
      emit({ type: 'acked', leaseId: p.leaseId, peerId: link.remoteId });
    } else if (msg.type === 'result') {
      const { outputs, digest, computeMs, backend } = msg;
      end(p, {
        type: 'reported',
        leaseId: p.leaseId,
        peerId: link.remoteId,
        report: { outputs, ...(digest !== undefined ? { digest } : {}), computeMs, backend },
      });
    } else {
      end(p, { type: 'errored', leaseId: p.leaseId, peerId: link.remoteId, error: msg.error });
    }
  }

  function attach(link: PeerLink): void {
    if (attached.has(link)) return;
    attached.add(link);
    link.onMessage((msg) => onMessage(link, msg));
    link.onClose((reason) => {
      for (const p of [...leases.values()]) {
        if (p.link === link) errored(p, 'disconnected', `${link.remoteId}: ${reason.code}`);
      }
    });
  }

  return {
    assign(link, fields) {
      return new Promise<TaskClientEvent>((resolve) => {
        const p: Pending = {
          link,
          leaseId: fields.leaseId,
          timer: undefined,
          deadlineMs: fields.deadlineMs,
          resolve,
        };
        if (leases.has(fields.leaseId)) {
          return resolve({
            type: 'errored',
            leaseId: fields.leaseId,
            peerId: link.remoteId,
            error: { code: 'duplicate-lease', message: `lease ${fields.leaseId} is already out` },
          });
        }
        leases.set(fields.leaseId, p);
        if (link.closed) return errored(p, 'disconnected', `${link.remoteId} is not connected`);
        attach(link);
        p.timer = timers.setTimeout(
          () => errored(p, 'ack-timeout', `no ack within ${ackTimeoutMs} ms`),
          ackTimeoutMs,
        );
        link
          .send({ type: 'assign', ...fields })
          .catch((err: unknown) => errored(p, 'send-failed', String(err)));
      });
    },
    cancel(leaseId) {
      const p = leases.get(leaseId);
      if (!p) return;
      void p.link.send({ type: 'cancel', leaseId }).catch(() => {});
      errored(p, 'cancelled', 'cancelled by the submitter');
    },
    get pending() {
      return leases.size;
    },
  };
}
