/**
 * V8's sampling CPU profiler on a page's main thread (Chrome DevTools
 * Protocol), summarised as the functions with the most self time.
 */
import { Page } from 'playwright-core';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Starts profiling `page`; the returned function stops and summarises the top `top` entries. */
export async function startProfiler(page: Page, top = 12): Promise<() => Promise<string>> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  return async () => {
    const { profile } = (await cdp.send('Profiler.stop')) as unknown as {
      profile: { nodes: ProfileNode[]; samples: number[] };
    };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const counts = new Map<string, number>();
    for (const id of profile.samples) {
      const frame = byId.get(id)?.callFrame;
      const key = frame
        ? `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber}`
        : '?';
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const total = profile.samples.length || 1;
    return [...counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([key, n]) => `    ${((n / total) * 100).toFixed(1).padStart(5)}%  ${key}`)
      .join('\n');
  };
}
