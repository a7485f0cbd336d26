import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

// axe-core's browser build, run in the page through the debugging protocol
// (evaluate is not subject to the app's Content-Security-Policy, which
// would refuse an injected <script>).
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** One axe finding, as much as a failing test needs to say what to fix. */
export interface AxeFinding {
  rule: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs every axe rule axe enables by default (WCAG 2 A/AA and best practices). */
async function axeFindings(page: Page): Promise<AxeFinding[]> {
  const loaded = await page.evaluate(() => 'axe' in window);
  if (!loaded) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: AxeApi }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      rule: v.id,
      impact: v.impact ?? null,
      help: v.help,
      targets: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary ?? ''}`),
    }));
  });
}

interface AxeApi {
  run(
    context: Document,
    options: { resultTypes: string[] },
  ): Promise<{
    violations: {
      id: string;
      impact?: string | null;
      help: string;
      nodes: { target: string[]; failureSummary?: string }[];
    }[];
  }>;
}

/**
 * The page as it is now, in the light and the dark colour scheme: axe's
 * findings for each, labelled (`[]` each when accessible). Leaves the page
 * in the light scheme.
 */
export async function axeInBothSchemes(
  page: Page,
  state: string,
): Promise<Record<string, AxeFinding[]>> {
  const out: Record<string, AxeFinding[]> = {};
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    // One frame so the new scheme's styles are applied before axe reads colours.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    out[`${state} (${scheme})`] = await axeFindings(page);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return out;
}

/** `axeInBothSchemes` with every label mapped to [] when the page is accessible. */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const findings = await axeInBothSchemes(page, state);
  const clean = Object.fromEntries(Object.keys(findings).map((k) => [k, []]));
  expect(findings).toEqual(clean);
}
