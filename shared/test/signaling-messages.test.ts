import { describe, expect, it } from 'vitest';
import { SIGNALING_LIMITS } from '../src/signaling/limits.ts';
import {
  parseCapabilities,
  parseClientMessage,
  parseServerMessage,
} from '../src/signaling/messages.ts';

const caps = {
  runtime: 'node',
  backends: ['cpu', 'wasm'],
  cores: 4,
  memoryMB: 2048,
  maxConcurrency: 2,
};
const id = 'a'.repeat(32);
const key = 'A'.repeat(43);
const sig = 'B'.repeat(86);

describe('parseClientMessage', () => {
  it('builds fresh objects and drops unknown fields', () => {
    const raw = { type: 'hello', grid: 'lab-1', extra: 1 };
    const m = parseClientMessage(raw);
    expect(m).toEqual({ type: 'hello', grid: 'lab-1' });
    expect(m).not.toBe(raw);
    const j = parseClientMessage({
      type: 'join',
      grid: 'g',
      publicKey: key,
      signature: sig,
      capabilities: { ...caps, evil: true },
      from: id,
    });
    expect(j).toEqual({
      type: 'join',
      grid: 'g',
      publicKey: key,
      signature: sig,
      capabilities: caps,
    });
    const s = parseClientMessage({
      type: 'signal',
      to: id,
      from: 'b'.repeat(32),
      data: { sdp: 'x' },
    });
    expect(s).toEqual({ type: 'signal', to: id, data: { sdp: 'x' } });
    expect(parseClientMessage({ type: 'ping', x: 1 })).toEqual({ type: 'ping' });
  });

  it('refuses wrong and missing fields', () => {
    const bad: unknown[] = [
      null,
      'hello',
      [],
      { type: 'nope' },
      { type: 'hello' },
      { type: 'hello', grid: '' },
      { type: 'hello', grid: 'a/b' },
      { type: 'hello', grid: 'x'.repeat(65) },
      { type: 'join', grid: 'g', publicKey: key, signature: sig },
      { type: 'join', grid: 'g', publicKey: 'short', signature: sig, capabilities: caps },
      { type: 'join', grid: 'g', publicKey: key, signature: sig, capabilities: caps, token: 5 },
      {
        type: 'join',
        grid: 'g',
        publicKey: key,
        signature: sig,
        capabilities: caps,
        token: 'x'.repeat(513),
      },
      { type: 'signal', to: 'UPPER'.repeat(7), data: {} },
      { type: 'signal', to: id },
      { type: 'signal', to: id, data: 'x'.repeat(SIGNALING_LIMITS.signalPayloadMaxChars) },
      { type: 'update', capabilities: { ...caps, runtime: 'deno' } },
    ];
    for (const raw of bad) expect(parseClientMessage(raw), JSON.stringify(raw)).toBeNull();
  });

  it('bounds capabilities', () => {
    expect(parseCapabilities({ ...caps, cores: 1.5 })).toBeNull();
    expect(parseCapabilities({ ...caps, cores: -1 })).toBeNull();
    expect(parseCapabilities({ ...caps, memoryMB: 1e12 })).toBeNull();
    expect(parseCapabilities({ ...caps, backends: ['tpu'] })).toBeNull();
    expect(parseCapabilities({ ...caps, backends: ['cpu', 'cpu'] })?.backends).toEqual(['cpu']);
  });
});

describe('parseServerMessage', () => {
  it('parses every server message type', () => {
    const peer = { id, publicKey: key, capabilities: caps };
    const msgs = [
      { type: 'challenge', nonce: 'abc_-', serverId: 'srv' },
      { type: 'joined', id, peers: [peer], iceServers: [{ urls: ['stun:x:3478'] }] },
      { type: 'peer-joined', peer },
      { type: 'peer-updated', peer },
      { type: 'peer-left', id },
      { type: 'signal', from: id, data: { candidate: 'c' } },
      { type: 'pong' },
      { type: 'error', code: 'rate-limited', message: 'slow down' },
    ];
    for (const m of msgs) expect(parseServerMessage(m)).toEqual(m);
  });

  it('refuses malformed server messages', () => {
    expect(parseServerMessage({ type: 'error', code: 'made-up', message: 'x' })).toBeNull();
    expect(parseServerMessage({ type: 'joined', id, peers: [{ id }], iceServers: [] })).toBeNull();
    expect(
      parseServerMessage({ type: 'joined', id, peers: [], iceServers: [{ urls: ['http://x'] }] }),
    ).toBeNull();
    expect(parseServerMessage({ type: 'peer-left', id: 'x' })).toBeNull();
  });
});
