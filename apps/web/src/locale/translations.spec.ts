import source from './messages.json';
import de from './messages.de.json';
import fr from './messages.fr.json';

// messages.json is what `npx nx run web:extract-i18n` extracts from the
// templates and $localize strings; every language must translate all of it
// with the same placeholders (a lost {$INTERPOLATION} would drop a value).
const placeholders = (message: string) =>
  [...message.matchAll(/\{\$[A-Z0-9_]+\}|\{?INTERPOLATION(?:_\d+)?\}?|VAR_PLURAL/g)]
    .map((m) => m[0])
    .sort();

describe.each([
  ['de', de],
  ['fr', fr],
])('the %s translation', (locale, messages) => {
  const translations: Record<string, string> = messages.translations;

  it('names its locale', () => {
    expect(messages.locale).toBe(locale);
  });

  it('translates every extracted message, and nothing else', () => {
    expect(Object.keys(translations).sort()).toEqual(Object.keys(source.translations).sort());
  });

  it('keeps every placeholder of each message', () => {
    const lost = Object.entries(source.translations as Record<string, string>).filter(
      ([id, text]) =>
        JSON.stringify(placeholders(translations[id] ?? '')) !== JSON.stringify(placeholders(text)),
    );
    expect(lost.map(([id]) => id)).toEqual([]);
  });

  it('differs from English where there are words to translate', () => {
    const untranslated = Object.entries(source.translations as Record<string, string>)
      .filter(([, text]) => /[a-z]{4,}/i.test(text.replace(/\{[^}]*\}/g, '')))
      .filter(([id, text]) => translations[id]?.trim() === text.trim())
      .map(([id]) => id);
    expect(untranslated).toEqual([]);
  });
});
