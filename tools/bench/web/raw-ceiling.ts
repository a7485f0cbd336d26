/**
 * The raw data-channel ceiling every transfer figure is a ratio to: two
 * headless Chromium processes, two RTCPeerConnections, one data channel
 * pushing 64 KiB messages as fast as it allows (paused above 256 KiB
 * buffered, resumed below 64 KiB), with each side's CPU from /proc.
 */
import { Page } from 'playwright-core';

import { closePeer, launch } from './app-stack';
import { CpuLimit } from './cpu-limit';
import { CpuMeter, treeRssBytes } from './proc-tree';

export interface SideCosts {
  /** Bytes per second. */
  rate: number;
  sender: { seconds: number; threads: Array<[string, number]> };
  receiver: { seconds: number; threads: Array<[string, number]> };
  /** Peak resident growth during the transfer: the receiver's renderers and whole tree, the sender's tree. */
  memory: { receiverTab: number; receiverTree: number; senderTree: number };
}

// How often the raw phase samples resident memory (as the app runs do).
const MEMORY_SAMPLE_MS = 500;

/** CPU limits for both sides (the constrained-CPU case). */
export interface Limits {
  sender: CpuLimit;
  receiver: CpuLimit;
}

// Bounds for the raw-ceiling phase: each negotiation step, and how long the
// bytes may stop moving (either side) before the phase fails instead of hanging.
const RAW_STEP_TIMEOUT_MS = 30_000;
const RAW_STALL_MS = 15_000;

/** Rejects with `what` when `promise` has not settled within `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: timed out after ${(ms / 1000).toFixed(0)} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface RawWindow {
  pc: RTCPeerConnection;
  dc: RTCDataChannel;
  gathered: Promise<void>;
  rx: { got: number; first: number; last: number };
  tx: { sent: number };
}

/** Connection, ICE and channel state plus byte counts of one raw-ceiling page, for error messages. */
function rawState(page: Page): Promise<string> {
  const probe = page.evaluate(() => {
    const w = window as unknown as Partial<RawWindow>;
    if (!w.pc || !w.dc || !w.rx || !w.tx) return 'not set up';
    return (
      `connection ${w.pc.connectionState}, ICE ${w.pc.iceConnectionState}, ` +
      `gathering ${w.pc.iceGatheringState}, channel ${w.dc.readyState}, ` +
      `sent ${w.tx.sent} B (buffered ${w.dc.bufferedAmount} B), received ${w.rx.got} B`
    );
  });
  return withTimeout(probe, 2_000, 'reading page state').catch(
    (e: unknown) => `unknown (${String(e)})`,
  );
}

/**
 * (a): raw data-channel throughput between two browser processes, and what
 * each side's whole process tree spent on it.
 *
 * The receiver counts bytes from a handler installed together with the
 * channel, before any negotiation: a message that arrives on a channel with
 * no listener is dropped, and an earlier version (handler installed by a
 * page.evaluate that was not awaited before the sender started) lost the
 * first messages whenever the sender won that race, then waited forever for
 * bytes that had already gone by.
 */
export async function rawCeiling(bytes: number, limit?: Limits): Promise<SideCosts> {
  const [a, b] = await Promise.all([launch('raw-a'), launch('raw-b')]);
  const cpuA = new CpuMeter(a.profile);
  const cpuB = new CpuMeter(b.profile);
  const step = async <T>(
    what: string,
    run: () => Promise<T>,
    ms = RAW_STEP_TIMEOUT_MS,
  ): Promise<T> => {
    try {
      return await withTimeout(run(), ms, what);
    } catch (error) {
      const [stateA, stateB] = await Promise.all([rawState(a.page), rawState(b.page)]);
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `raw ceiling failed (${reason})\n` + `  sender (a):   ${stateA}\n  receiver (b): ${stateB}`,
      );
    }
  };
  try {
    const setup = `window.pc = new RTCPeerConnection();
      window.dc = pc.createDataChannel('bench', { negotiated: true, id: 0 });
      dc.binaryType = 'arraybuffer';
      window.tx = { sent: 0 };
      window.rx = { got: 0, first: 0, last: 0 };
      dc.onmessage = (e) => {
        const now = performance.now();
        if (rx.got === 0) rx.first = now;
        rx.got += e.data.byteLength;
        rx.last = now;
      };
      window.gathered = new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r()));
      0;`;
    await step('setting up the peer connections', () =>
      Promise.all([a.page.evaluate(setup), b.page.evaluate(setup)]),
    );
    const offer = await step('creating the offer (ICE gathering on a)', () =>
      a.page.evaluate(async () => {
        const w = window as unknown as RawWindow;
        await w.pc.setLocalDescription(await w.pc.createOffer());
        await w.gathered;
        return w.pc.localDescription!.sdp;
      }),
    );
    const answer = await step('creating the answer (ICE gathering on b)', () =>
      b.page.evaluate(async (sdp) => {
        const w = window as unknown as RawWindow;
        await w.pc.setRemoteDescription({ type: 'offer', sdp });
        await w.pc.setLocalDescription(await w.pc.createAnswer());
        await w.gathered;
        return w.pc.localDescription!.sdp;
      }, offer),
    );
    await step('connecting (ICE, DTLS, SCTP) until the data channel opens', () =>
      a.page.evaluate(async (sdp) => {
        const w = window as unknown as RawWindow;
        await w.pc.setRemoteDescription({ type: 'answer', sdp });
        if (w.dc.readyState !== 'open')
          await new Promise((r) => w.dc.addEventListener('open', r, { once: true }));
      }, answer),
    );
    // Progress-bounded on both sides (no bytes moving for RAW_STALL_MS fails
    // the phase), plus an overall deadline far above any sane rate (4 MB/s).
    limit?.sender.apply(a.profile);
    limit?.receiver.apply(b.profile);
    const before = {
      receiverTab: treeRssBytes(b.profile, 'renderer'),
      receiverTree: treeRssBytes(b.profile),
      senderTree: treeRssBytes(a.profile),
    };
    const peak = { ...before };
    const sampler = setInterval(() => {
      peak.receiverTab = Math.max(peak.receiverTab, treeRssBytes(b.profile, 'renderer'));
      peak.receiverTree = Math.max(peak.receiverTree, treeRssBytes(b.profile));
      peak.senderTree = Math.max(peak.senderTree, treeRssBytes(a.profile));
    }, MEMORY_SAMPLE_MS);
    cpuA.start();
    cpuB.start();
    const deadlineMs = 60_000 + (bytes / 4e6) * 1000;
    const received = b.page.evaluate(
      ({ total, stallMs }) =>
        new Promise<number>((resolve, reject) => {
          const rx = (window as unknown as RawWindow).rx;
          let seen = rx.got;
          let progressAt = performance.now();
          const tick = setInterval(() => {
            const now = performance.now();
            if (rx.got >= total) {
              clearInterval(tick);
              resolve((rx.got / (rx.last - rx.first)) * 1000);
            } else if (rx.got !== seen) {
              seen = rx.got;
              progressAt = now;
            } else if (now - progressAt > stallMs) {
              clearInterval(tick);
              reject(
                new Error(
                  `receiver: no bytes for ${stallMs / 1000} s, ${rx.got} of ${total} B received`,
                ),
              );
            }
          }, 50);
        }),
      { total: bytes, stallMs: RAW_STALL_MS },
    );
    const sent = a.page.evaluate(
      async ({ total, stallMs }) => {
        const { dc, tx } = window as unknown as RawWindow;
        const chunk = new Uint8Array(64 * 1024);
        dc.bufferedAmountLowThreshold = 64 * 1024;
        for (; tx.sent < total; tx.sent += chunk.length) {
          if (dc.bufferedAmount > 256 * 1024)
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(() => {
                dc.removeEventListener('bufferedamountlow', low);
                reject(
                  new Error(
                    `sender: send buffer did not drain for ${stallMs / 1000} s (${dc.bufferedAmount} B buffered, channel ${dc.readyState})`,
                  ),
                );
              }, stallMs);
              const low = () => {
                clearTimeout(timer);
                resolve();
              };
              dc.addEventListener('bufferedamountlow', low, { once: true });
            });
          dc.send(chunk);
        }
      },
      { total: bytes, stallMs: RAW_STALL_MS },
    );
    const [rate] = await step(
      `transferring ${bytes} B`,
      () => Promise.all([received, sent]),
      deadlineMs,
    ).finally(() => clearInterval(sampler));
    return {
      rate,
      sender: cpuA.stop(),
      receiver: cpuB.stop(),
      memory: {
        receiverTab: peak.receiverTab - before.receiverTab,
        receiverTree: peak.receiverTree - before.receiverTree,
        senderTree: peak.senderTree - before.senderTree,
      },
    };
  } finally {
    await Promise.all([closePeer(a), closePeer(b)]);
  }
}
