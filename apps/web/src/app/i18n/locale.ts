import { registerLocaleData } from '@angular/common';
import localeDe from '@angular/common/locales/de';
import localeFr from '@angular/common/locales/fr';
import { loadTranslations } from '@angular/localize';
import de from '../../locale/messages.de.json';
import fr from '../../locale/messages.fr.json';

/** The languages the app is complete in; the first is the one its source is written in. */
export const LOCALES = [
  { id: 'en', name: 'English' },
  { id: 'de', name: 'Deutsch' },
  { id: 'fr', name: 'Français' },
] as const;
export type LocaleId = (typeof LOCALES)[number]['id'];

const CHOSEN_KEY = 'ephemeral-share.locale';
const TRANSLATIONS: Record<Exclude<LocaleId, 'en'>, { translations: Record<string, string> }> = {
  de,
  fr,
};
const LOCALE_DATA = { de: localeDe, fr: localeFr };

let current: LocaleId = 'en';

function isLocale(value: string | null | undefined): value is LocaleId {
  return LOCALES.some((l) => l.id === value);
}

/** The person's choice (the switcher) if any, else the browser's first language we have. */
export function pickLocale(chosen: string | null, browserLanguages: readonly string[]): LocaleId {
  if (isLocale(chosen)) return chosen;
  for (const tag of browserLanguages) {
    const language = tag.toLowerCase().split('-')[0];
    if (isLocale(language)) return language;
  }
  return 'en';
}

function chosenLocale(): string | null {
  try {
    return localStorage.getItem(CHOSEN_KEY);
  } catch {
    return null;
  }
}

/**
 * Picks the page's language and loads its translations. Runs before the app
 * is imported: `$localize` strings (templates, route titles) are translated
 * when they are first evaluated, so one build serves every language (ADR 0021).
 */
export function applyLocale(): LocaleId {
  current = pickLocale(chosenLocale(), navigator.languages ?? [navigator.language]);
  if (current !== 'en') {
    loadTranslations(TRANSLATIONS[current].translations);
    registerLocaleData(LOCALE_DATA[current], current);
  }
  document.documentElement.lang = current;
  return current;
}

/** The language applied at start-up (LOCALE_ID, number formats). */
export function currentLocale(): LocaleId {
  return current;
}

/** Remembers the person's choice and reloads the page in it. */
export function switchLocale(id: LocaleId): void {
  try {
    localStorage.setItem(CHOSEN_KEY, id);
  } catch {
    // Not remembered: the reload still shows the browser's language.
  }
  location.reload();
}
