import { z } from 'zod';

import {
  ConfigError,
  configErrorMessage,
  configProblems,
  decimalInteger,
  withoutEmptyValues,
} from './environment-config';

const schema = z.object({
  PORT: decimalInteger(0, 65_535).default(8080),
  RETRIES: decimalInteger(1, 10).optional(),
});

function problemsOf(env: Record<string, string>): string[] {
  const parsed = schema.safeParse(withoutEmptyValues(env));
  return parsed.success ? [] : configProblems(parsed.error);
}

describe('environment config helpers', () => {
  it('treats an empty value as unset', () => {
    expect(withoutEmptyValues({ A: '', B: 'b', C: undefined, D: ' ' })).toEqual({
      B: 'b',
      D: ' ',
    });
    expect(schema.parse(withoutEmptyValues({ PORT: '' }))).toEqual({ PORT: 8080 });
  });

  it('reads decimal integers, leading zeros and the bounds included', () => {
    expect(schema.parse({ PORT: '0', RETRIES: '10' })).toEqual({ PORT: 0, RETRIES: 10 });
    expect(schema.parse({ PORT: '65535', RETRIES: '01' })).toEqual({ PORT: 65_535, RETRIES: 1 });
  });

  it.each(['0x10', '1e3', '1.5', ' 12', '12 ', '+5', '-1', '１２', 'abc', ' '])(
    'refuses PORT=%j, naming the variable',
    (value) => {
      expect(problemsOf({ PORT: value })).toEqual([
        'PORT: must be a whole number in decimal digits (0-9 only)',
      ]);
    },
  );

  it('names the bound a value is outside of', () => {
    expect(problemsOf({ PORT: '65536', RETRIES: '0' })).toEqual([
      'PORT: must be at most 65535',
      'RETRIES: must be at least 1',
    ]);
  });

  it('formats one problem per indented line', () => {
    expect(configErrorMessage('gateway', ['PORT: bad', 'HOST: worse'])).toBe(
      'invalid gateway configuration:\n  PORT: bad\n  HOST: worse',
    );
    const error = new ConfigError('x');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
  });
});
