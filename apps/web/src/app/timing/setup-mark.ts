/**
 * Points on a receive page's way from "link opened" to "file list shown",
 * as User Timing marks (`es:<name>`, milliseconds since the navigation
 * started). The setup benchmark reads them beside what it sees from outside
 * the app (tools/bench/web/setup-timeline.ts, ADR 0030); a browser's
 * performance panel shows them too. A mark costs a microsecond or so, and
 * never throws: a page without User Timing is not worse off.
 */
export type SetupMark =
  /** main.ts started: the initial bundle is loaded and evaluated. */
  | 'main'
  /** bootstrapApplication resolved: the root component is rendered. */
  | 'bootstrapped'
  /** The receive page's component is initialised (its route and chunk are in). */
  | 'receive-page'
  /** The download session starts its first dial (Welcome in hand). */
  | 'dial';

export function markSetup(name: SetupMark): void {
  try {
    globalThis.performance?.mark?.(`es:${name}`);
  } catch {
    // A mark is for whoever measures; it must never disturb the page.
  }
}
