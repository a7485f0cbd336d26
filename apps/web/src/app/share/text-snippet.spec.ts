import { isTextSnippet, MAX_SNIPPET_BYTES, snippetFile } from './text-snippet';

describe('text snippets', () => {
  it('are small plain-text files', () => {
    expect(isTextSnippet({ type: 'text/plain', size: 12 })).toBe(true);
    expect(isTextSnippet({ type: 'text/plain;charset=utf-8', size: MAX_SNIPPET_BYTES })).toBe(true);
    expect(isTextSnippet({ type: 'text/plain', size: MAX_SNIPPET_BYTES + 1 })).toBe(false);
    expect(isTextSnippet({ type: 'image/png', size: 12 })).toBe(false);
  });

  it('are shared as numbered text files', async () => {
    const file = snippetFile('see you at 5', 2);
    expect(file.name).toBe('Text 2.txt');
    expect(file.type).toBe('text/plain');
    await expect(file.text()).resolves.toBe('see you at 5');
  });
});
