import '@angular/compiler'; // JIT: @angular/common's injectables are compiled at run time
import { pickLocale } from './locale';

describe('pickLocale', () => {
  it("takes the person's choice over the browser's languages", () => {
    expect(pickLocale('fr', ['de-DE', 'en'])).toBe('fr');
  });

  it("takes the browser's first language the app has", () => {
    expect(pickLocale(null, ['nl-NL', 'de-AT', 'fr'])).toBe('de');
    expect(pickLocale('xx', ['FR-ca'])).toBe('fr');
  });

  it('falls back to English', () => {
    expect(pickLocale(null, ['nl', 'ja'])).toBe('en');
    expect(pickLocale(null, [])).toBe('en');
  });
});
