import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';

// The end of a name a narrow screen keeps: the extension and what usually
// tells similar names apart ("photo-0142.jpg" vs "photo-0143.jpg").
const TAIL_CHARS = 10;

/** Splits a name so that only its middle is cut when it does not fit. */
export function splitForMiddleTruncation(name: string): { head: string; tail: string } {
  const chars = [...name];
  if (chars.length <= TAIL_CHARS * 2) return { head: name, tail: '' };
  return {
    head: chars.slice(0, -TAIL_CHARS).join(''),
    tail: chars.slice(-TAIL_CHARS).join(''),
  };
}

/**
 * A file's path on one line, truncated in the middle: the head shrinks with
 * an ellipsis, the tail always shows. The whole name stays in the DOM (for
 * screen readers, search and copying) and in the tooltip.
 */
@Component({
  selector: 'es-file-name',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { '[attr.title]': 'name()' },
  template: `<span class="head">{{ parts().head }}</span
    ><span class="tail">{{ parts().tail }}</span>`,
  styles: `
    :host {
      display: flex;
      min-width: 0;
      white-space: pre;
    }
    .head {
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .tail {
      flex-shrink: 0;
    }
  `,
})
export class FileName {
  readonly name = input.required<string>();
  protected readonly parts = computed(() => splitForMiddleTruncation(this.name()));
}
