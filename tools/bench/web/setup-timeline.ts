/**
 * Where a receiver's connection setup spends its time (open link → file
 * list shown), read from the page without changing the app: an init script
 * timestamps the navigation, the app's first render, the gateway socket,
 * the peer connection's milestones and the control channel's messages, and
 * the file list's first row. Each mark is milliseconds since the page's
 * navigation started (performance.now()).
 */
import { Page } from 'playwright-core';

/** The marks, in the order a setup passes them. */
export const SETUP_MARKS = [
  'html', // the document's response ended
  'scripts', // the last script the page loaded ended
  'app-rendered', // the app's root element got its first child (Angular bootstrapped)
  'ws-created',
  'ws-open',
  'welcome', // the gateway's first frame (Welcome)
  'pc-created',
  'offer-sent', // setLocalDescription(offer) resolved
  'answer-applied', // setRemoteDescription(answer) called
  'ice-connected',
  'dtls-connected', // connectionState 'connected'
  'channels-open',
  'challenge', // the sender's first control message
  'proof-sent',
  'manifest', // the next control message after the proof
  'list-shown',
] as const;
export type SetupMark = (typeof SETUP_MARKS)[number];

export const SETUP_TIMELINE = `(() => {
  if (!location.pathname.startsWith('/s/')) return;
  const t = (window.__setup = {});
  const mark = (name) => { if (!(name in t)) t[name] = performance.now(); };
  const WS = window.WebSocket;
  window.WebSocket = function (...args) {
    mark('ws-created');
    const ws = new WS(...args);
    ws.addEventListener('open', () => mark('ws-open'));
    ws.addEventListener('message', () => mark('welcome'));
    return ws;
  };
  window.WebSocket.prototype = WS.prototype;
  Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  const PC = window.RTCPeerConnection;
  const proto = PC.prototype;
  const setLocal = proto.setLocalDescription;
  proto.setLocalDescription = function (...args) {
    return setLocal.apply(this, args).then((v) => { mark('offer-sent'); return v; });
  };
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (...args) { mark('answer-applied'); return setRemote.apply(this, args); };
  const create = proto.createDataChannel;
  proto.createDataChannel = function (...args) {
    mark('pc-created');
    if (!this.__watched) {
      this.__watched = true;
      this.addEventListener('iceconnectionstatechange', () => {
        if (this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') mark('ice-connected');
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected') mark('dtls-connected');
      });
    }
    const channel = create.apply(this, args);
    if (channel.label === 'control') {
      channel.addEventListener('open', () => mark('channels-open'));
      let proofSent = false;
      const send = channel.send;
      channel.send = function (...a) { if (!proofSent) { proofSent = true; mark('proof-sent'); } return send.apply(this, a); };
      channel.addEventListener('message', () => { mark('challenge'); if (proofSent) mark('manifest'); });
    }
    return channel;
  };
  const watch = () => {
    const root = document.querySelector('es-root');
    if (root && root.firstElementChild) mark('app-rendered');
    if (document.querySelector('[data-testid=file-list] li')) { mark('list-shown'); observer.disconnect(); }
  };
  const observer = new MutationObserver(watch);
  observer.observe(document, { childList: true, subtree: true });
})();`;

/** The page's marks, with the navigation's own from Navigation/Resource Timing. */
export async function readSetupTimeline(page: Page): Promise<Partial<Record<SetupMark, number>>> {
  return page.evaluate(() => {
    const w = window as unknown as { __setup?: Record<string, number> };
    const marks: Record<string, number> = { ...(w.__setup ?? {}) };
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    if (nav) marks['html'] = nav.responseEnd;
    const scripts = performance
      .getEntriesByType('resource')
      .map((e) => e as PerformanceResourceTiming)
      .filter((e) => e.initiatorType === 'script');
    if (scripts.length > 0) marks['scripts'] = Math.max(...scripts.map((e) => e.responseEnd));
    return marks;
  });
}

/** Lines of "mark: p50 (step from the one before)" over every open. */
export function summariseTimelines(timelines: Array<Partial<Record<SetupMark, number>>>): string {
  const median = (values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const lines: string[] = [];
  let previous = 0;
  for (const name of SETUP_MARKS) {
    const values = timelines.map((t) => t[name]).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    const at = median(values);
    lines.push(
      `    ${name.padEnd(15)} p50 ${at.toFixed(0).padStart(5)} ms  (+${(at - previous).toFixed(0)})`,
    );
    previous = at;
  }
  return lines.join('\n');
}
