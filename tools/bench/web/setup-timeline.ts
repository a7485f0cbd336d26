/**
 * Where a receiver's connection setup spends its time (open link → file
 * list shown), read from the page: an init script timestamps the
 * navigation, the app's first render, the gateway socket, the peer
 * connection's milestones and the control channel's messages, and the file
 * list's first row; the app's own User Timing marks (`es:*`,
 * apps/web/src/app/timing/setup-mark.ts) say when main.ts ran, the app
 * bootstrapped, the receive page started and the first dial began. Each
 * mark is milliseconds since the page's navigation started
 * (performance.now()); the harness adds what lies outside the page (the
 * navigation's start after page.goto, the list's detection after it was
 * shown).
 */
import { Page } from 'playwright-core';

/** The marks, in the order a setup passes them. */
export const SETUP_MARKS = [
  'html', // the document's response ended
  'dom-interactive', // the document parsed (its module scripts not run yet)
  'main-fetched', // main-….js's response ended (its modulepreloaded chunks come beside it)
  'main', // es:main — main.ts runs: the initial bundle is evaluated
  'scripts', // the last script the page loaded ended
  'app-rendered', // the app's root element got its first child (Angular bootstrapped)
  'bootstrapped', // es:bootstrapped — bootstrapApplication resolved
  'receive-page', // es:receive-page — the receive page's ngOnInit
  'ws-created',
  'ws-open',
  'welcome', // the gateway's first frame (Welcome)
  'dial', // es:dial — the download session's first dial
  'pc-new', // new RTCPeerConnection() called
  'pc-created', // …returned
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

/** The sender page's marks for the same open (SENDER_TIMELINE), in the receiver's clock. */
export const SENDER_MARKS = [
  'tx-offer', // the sender applies the receiver's offer (setRemoteDescription called)
  'tx-pc-new', // its new RTCPeerConnection for that receiver
  'tx-answer', // setLocalDescription(answer) resolved: the answer goes to the gateway
] as const;
export type SenderMark = (typeof SENDER_MARKS)[number];

/**
 * For the sender's page: the epoch time (ms) of each mark of every peer
 * connection it makes, in `window.__senderSetup` (one entry per receiver
 * connection), so the harness can place the offer → answer step's parts on
 * the receiver's timeline (both pages run on this machine's clock).
 */
export const SENDER_TIMELINE = `(() => {
  const opens = (window.__senderSetup = []);
  const now = () => performance.timeOrigin + performance.now();
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = new Proxy(PC, {
    construct(target, args, newTarget) {
      const marks = { 'tx-pc-new': now() };
      opens.push(marks);
      const pc = Reflect.construct(target, args, newTarget);
      pc.__marks = marks;
      return pc;
    },
  });
  const proto = PC.prototype;
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (...args) {
    if (this.__marks && !this.__marks['tx-offer']) this.__marks['tx-offer'] = now();
    return setRemote.apply(this, args);
  };
  const setLocal = proto.setLocalDescription;
  proto.setLocalDescription = function (...args) {
    return setLocal.apply(this, args).then((v) => {
      if (this.__marks && !this.__marks['tx-answer']) this.__marks['tx-answer'] = now();
      return v;
    });
  };
})();`;

/** The sender's marks of its latest peer connection, as ms since `origin` (the receiver's timeOrigin). */
export async function readSenderTimeline(
  page: Page,
  origin: number,
): Promise<Partial<Record<SenderMark, number>>> {
  const latest = await page.evaluate(() => {
    const opens = (window as unknown as { __senderSetup?: Array<Record<string, number>> })
      .__senderSetup;
    return opens && opens.length > 0 ? opens[opens.length - 1] : {};
  });
  const marks: Partial<Record<SenderMark, number>> = {};
  for (const name of SENDER_MARKS)
    if (latest[name] !== undefined) marks[name] = latest[name] - origin;
  return marks;
}
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
  window.RTCPeerConnection = new Proxy(PC, {
    construct(target, args, newTarget) {
      mark('pc-new');
      const pc = Reflect.construct(target, args, newTarget);
      mark('pc-created');
      return pc;
    },
  });
  const proto = PC.prototype;
  const setLocal = proto.setLocalDescription;
  proto.setLocalDescription = function (...args) {
    return setLocal.apply(this, args).then((v) => { mark('offer-sent'); return v; });
  };
  const setRemote = proto.setRemoteDescription;
  proto.setRemoteDescription = function (...args) { mark('answer-applied'); return setRemote.apply(this, args); };
  const create = proto.createDataChannel;
  proto.createDataChannel = function (...args) {
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
export async function readSetupTimeline(
  page: Page,
): Promise<Partial<Record<SetupMark | 'time-origin', number>>> {
  return page.evaluate(() => {
    const w = window as unknown as { __setup?: Record<string, number> };
    const marks: Record<string, number> = { ...(w.__setup ?? {}) };
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    if (nav) {
      marks['html'] = nav.responseEnd;
      marks['dom-interactive'] = nav.domInteractive;
    }
    const scripts = performance
      .getEntriesByType('resource')
      .map((e) => e as PerformanceResourceTiming)
      .filter((e) => e.initiatorType === 'script');
    if (scripts.length > 0) marks['scripts'] = Math.max(...scripts.map((e) => e.responseEnd));
    const main = performance
      .getEntriesByType('resource')
      .find((e) => /\/main-[\w]+\.js$/.test(e.name)) as PerformanceResourceTiming | undefined;
    if (main) marks['main-fetched'] = main.responseEnd;
    // The app's own marks: the first of each name (a redial marks again).
    for (const entry of performance.getEntriesByType('mark')) {
      const name = entry.name.startsWith('es:') ? entry.name.slice(3) : null;
      if (name && !(name in marks)) marks[name] = entry.startTime;
    }
    marks['time-origin'] = performance.timeOrigin;
    return marks;
  });
}

/** A mark the harness adds: when it saw the list (its wait in the page returned), since navigation start. */
export type TimelineMark = SetupMark | SenderMark | 'detected';

/**
 * Lines of "mark: p50 (step from the one before)" over every open, in the
 * order of their p50s (the app's marks and the outside ones interleave
 * differently as the start-up changes).
 */
export function summariseTimelines(
  timelines: Array<Partial<Record<TimelineMark, number>>>,
): string {
  const median = (values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    const m = Math.floor(s.length / 2);
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  };
  const names: TimelineMark[] = [...SETUP_MARKS, ...SENDER_MARKS, 'detected'];
  const rows = names
    .map((name) => ({
      name,
      values: timelines.map((t) => t[name]).filter((v): v is number => v !== undefined),
    }))
    .filter((row) => row.values.length > 0)
    .map((row) => ({ name: row.name, at: median(row.values), seen: row.values.length }))
    .sort((a, b) => a.at - b.at);
  let previous = 0;
  return rows
    .map(({ name, at, seen }) => {
      const line =
        `    ${name.padEnd(15)} p50 ${at.toFixed(0).padStart(5)} ms  (+${(at - previous).toFixed(0)})` +
        (seen < timelines.length ? `  [${seen} of ${timelines.length} opens]` : '');
      previous = at;
      return line;
    })
    .join('\n');
}
