/** Longest name accepted, in characters (Unicode code points), as the proto contract promises. */
export const MAX_NAME_CHARACTERS = 64;

/** Either the cleaned-up name to greet, or why the request is rejected. */
export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/**
 * Checks a SayHello name: 1-64 characters; no control, bidirectional-control or replacement characters (invalid
 * UTF-8 on the wire); not blank, not invisible; returns the trimmed name.
 */
export function checkName(name: string): NameCheck {
  // Count code points, not UTF-16 units, so an emoji is one character as a user would count it.
  const characters = [...name];
  if (characters.length === 0) {
    return { ok: false, reason: 'name is required (1-64 characters)' };
  }
  if (characters.length > MAX_NAME_CHARACTERS) {
    return { ok: false, reason: `name must be 1-${MAX_NAME_CHARACTERS} characters, got ${characters.length}` };
  }
  const refused = firstRefusedCharacter(characters);
  if (refused) return { ok: false, reason: `name must not contain ${refused.what}, found ${refused.codePoint} at position ${refused.position}` };
  const trimmed = name.trim();
  if (trimmed === '') {
    return { ok: false, reason: 'name must not be blank' };
  }
  // Zero-width and other format characters (U+200B, U+2060, U+FEFF, ...) are fine inside a name (an emoji sequence
  // needs U+200D) but a name of nothing else would print as an empty greeting.
  if (!characters.some((character) => !/[\p{Cf}\p{Z}\p{M}\s]/u.test(character))) {
    return { ok: false, reason: 'name must contain a visible character, not only zero-width or format characters' };
  }
  return { ok: true, name: trimmed };
}

// Each a reason to refuse a name wherever the character appears: the name ends up in replies and log lines.
const REFUSED: readonly { what: string; pattern: RegExp }[] = [
  { what: 'control characters', pattern: /\p{Cc}/u },
  // U+FFFD is what protobuf decoding puts where the bytes on the wire were not valid UTF-8.
  { what: 'invalid UTF-8 (the replacement character)', pattern: /\uFFFD/u },
  // Bidirectional overrides and isolates reorder the text around them when printed (a log line that lies).
  { what: 'bidirectional control characters', pattern: /[\u202A-\u202E\u2066-\u2069]/u },
];

function firstRefusedCharacter(characters: string[]): { what: string; codePoint: string; position: number } | undefined {
  for (const [index, character] of characters.entries()) {
    const rule = REFUSED.find(({ pattern }) => pattern.test(character));
    if (rule) {
      const hex = character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      return { what: rule.what, codePoint: `U+${hex}`, position: index + 1 };
    }
  }
  return undefined;
}
