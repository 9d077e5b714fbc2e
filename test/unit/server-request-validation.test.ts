import { describe, expect, it } from 'vitest';
import { checkName } from '../../server/src/request-validation.js';

describe('checkName', () => {
  it('accepts a plain name and returns it', () => {
    expect(checkName('lab')).toEqual({ ok: true, name: 'lab' });
  });

  it('trims surrounding spaces from the name it greets', () => {
    expect(checkName('  Ada Lovelace ')).toEqual({ ok: true, name: 'Ada Lovelace' });
  });

  it('accepts exactly 64 characters, counting code points (an emoji is one)', () => {
    expect(checkName('x'.repeat(64)).ok).toBe(true);
    expect(checkName('😀'.repeat(64)).ok).toBe(true);
  });

  it('accepts emoji sequences joined by zero-width joiners, and letters with combining marks', () => {
    expect(checkName('👩\u200D💻')).toEqual({ ok: true, name: '👩\u200D💻' });
    expect(checkName('e\u0301')).toEqual({ ok: true, name: 'e\u0301' });
  });

  it.each([
    ['', 'name is required (1-64 characters)'],
    ['x'.repeat(65), 'name must be 1-64 characters, got 65'],
    ['x'.repeat(300), 'name must be 1-64 characters, got 300'],
    ['   ', 'name must not be blank'],
    ['a\nb', 'name must not contain control characters, found U+000A at position 2'],
    ['\tlab', 'name must not contain control characters, found U+0009 at position 1'],
    ['lab\u007f', 'name must not contain control characters, found U+007F at position 4'],
    ['\u0000', 'name must not contain control characters, found U+0000 at position 1'],
    ['ab\uFFFD', 'name must not contain invalid UTF-8 (the replacement character), found U+FFFD at position 3'],
    ['\u202Etxt.exe', 'name must not contain bidirectional control characters, found U+202E at position 1'],
    ['a\u2066b', 'name must not contain bidirectional control characters, found U+2066 at position 2'],
    ['\u200B\u200B', 'name must contain a visible character, not only zero-width or format characters'],
    ['\u2060 \uFEFF', 'name must contain a visible character, not only zero-width or format characters'],
    ['\u0301', 'name must contain a visible character, not only zero-width or format characters'],
  ])('rejects %j: %s', (name, reason) => {
    expect(checkName(name)).toEqual({ ok: false, reason });
  });
});
