// Decides whether a path is left out of the Docker build context by a .dockerignore, following Docker's rules
// (moby/patternmatcher): patterns are relative to the context root; `*` and `?` stay within one path segment,
// `**` spans any number of segments; a pattern that matches a folder leaves out everything inside it; a `!`
// pattern brings paths back; and the last pattern that matches a path decides.

interface IgnoreRule {
  pattern: string;
  negated: boolean;
  regex: RegExp;
}

function toRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i] ?? '';
    if (char === '*' && pattern[i + 1] === '*') {
      i++;
      if (pattern[i + 1] === '/') {
        i++;
        source += '(?:.*/)?'; // "**/" also matches no folder at all.
      } else {
        source += '.*';
      }
    } else if (char === '*') {
      source += '[^/]*';
    } else if (char === '?') {
      source += '[^/]';
    } else {
      source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** Reads .dockerignore text into its rules (comments and blank lines dropped, paths cleaned as Docker does). */
export function readDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).trim().replace(/^\/+/, '').replace(/\/+$/, '').replace(/^\.\//, '');
    if (pattern === '') continue;
    rules.push({ pattern, negated, regex: toRegex(pattern) });
  }
  return rules;
}

/** True when `relativePath` (from the context root, with `/`) is not sent to the builder. */
export function isIgnored(rules: IgnoreRule[], relativePath: string): boolean {
  const segments = relativePath.split('/').filter((segment) => segment !== '' && segment !== '.');
  // The path itself and each folder above it: a pattern that matches a folder covers what is inside.
  const candidates = segments.map((_, index) => segments.slice(0, index + 1).join('/'));
  let ignored = false;
  for (const rule of rules) {
    if (candidates.some((candidate) => rule.regex.test(candidate))) ignored = !rule.negated;
  }
  return ignored;
}
