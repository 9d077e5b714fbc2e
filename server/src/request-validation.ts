/** Longest name accepted, in characters (Unicode code points), as the proto contract promises. */
export const MAX_NAME_CHARACTERS = 64;

/** Either the cleaned-up name to greet, or why the request is rejected. */
export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** Checks a SayHello name: 1-64 characters, no control characters, not blank; returns the trimmed name. */
export function checkName(name: string): NameCheck {
  // Count code points, not UTF-16 units, so an emoji is one character as a user would count it.
  const characters = [...name];
  if (characters.length === 0) {
    return { ok: false, reason: 'name is required (1-64 characters)' };
  }
  if (characters.length > MAX_NAME_CHARACTERS) {
    return { ok: false, reason: `name must be 1-${MAX_NAME_CHARACTERS} characters, got ${characters.length}` };
  }
  const controlIndex = characters.findIndex((character) => /\p{Cc}/u.test(character));
  if (controlIndex !== -1) {
    const codePoint = characters[controlIndex]!.codePointAt(0)!;
    const hex = codePoint.toString(16).toUpperCase().padStart(4, '0');
    return { ok: false, reason: `name must not contain control characters, found U+${hex} at position ${controlIndex + 1}` };
  }
  const trimmed = name.trim();
  if (trimmed === '') {
    return { ok: false, reason: 'name must not be blank' };
  }
  return { ok: true, name: trimmed };
}
