// The project's rule for envoy.yaml: every Envoy setting carries a one-line reason. Checked line by line on the
// raw text, because a YAML parser throws comments away.
//
// A "setting" is a line that gives a value: `key: value`, `key: [a, b]`, `key: {}` or a scalar list item.
// Exempt, because they carry no decision to explain:
//   - keys that only open a mapping or a list (`clusters:`, `- lb_endpoints:`); their children are checked;
//   - `@type` lines (fixed by the key they sit under) and `typed_config`;
//   - naming lines (`name`, `cluster_name`): identifiers, which other lines refer to;
//   - the entries of a data map (the fields of an access-log `json_format`): log record fields, not settings;
//     the map's own line must say what they are for.
// The reason may sit at the end of the line or, when it is too long for that, in comment lines directly above.

/** A setting line with no reason, by 1-based line number. */
export interface UncommentedSetting {
  line: number;
  text: string;
}

const EXEMPT_KEYS = new Set(['@type', 'typed_config', 'name', 'cluster_name']);
const DATA_MAP_KEYS = new Set(['json_format']);

/** Splits a line into its content and whether it ends in a comment, ignoring `#` inside quotes. */
function splitComment(line: string): { content: string; hasComment: boolean } {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1] ?? ''))) {
      return { content: line.slice(0, i).trimEnd(), hasComment: true };
    }
  }
  return { content: line.trimEnd(), hasComment: false };
}

function unquote(key: string): string {
  return key.replace(/^(["'])(.*)\1$/, '$2');
}

/** Finds every setting line under the top-level `section` that has no `#` reason beside it or directly above it. */
export function findUncommentedSettings(yamlText: string, section = 'static_resources'): UncommentedSetting[] {
  const lines = yamlText.split(/\r?\n/);
  const start = lines.findIndex((line) => new RegExp(`^${section}:\\s*(#.*)?$`).test(line));
  if (start < 0) throw new Error(`no top-level "${section}:" in the file`);

  const problems: UncommentedSetting[] = [];
  // Open mappings/lists above the current line, innermost last, with the column their key starts at.
  const ancestors: { indent: number; key: string }[] = [{ indent: 0, key: section }];
  let previousWasCommentLine = false;

  for (let index = start + 1; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const trimmed = line.trim();
    if (trimmed === '') {
      previousWasCommentLine = false;
      continue;
    }
    if (trimmed.startsWith('#')) {
      previousWasCommentLine = true;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    if (indent === 0) break; // The next top-level key: the section is over.

    const { content, hasComment } = splitComment(line);
    const explained = hasComment || previousWasCommentLine;
    previousWasCommentLine = false;

    // A list item's key starts after "- ", which is where its children are measured from.
    const item = /^(\s*)-\s+(.*)$/.exec(content);
    const body = item ? (item[2] ?? '') : content.trim();
    const keyIndent = item ? (item[1] ?? '').length + 2 : indent;
    while ((ancestors[ancestors.length - 1]?.indent ?? -1) >= keyIndent) ancestors.pop();
    const inDataMap = ancestors.some((ancestor) => DATA_MAP_KEYS.has(ancestor.key));

    const pair = /^("[^"]*"|'[^']*'|[^\s"'][^:]*?)\s*:(?:\s+(.*))?$/.exec(body);
    if (pair) {
      const key = unquote(pair[1] ?? '');
      const value = (pair[2] ?? '').trim();
      if (value === '') {
        ancestors.push({ indent: keyIndent, key });
        continue; // Opens a mapping or a list: structure, not a setting.
      }
      if (EXEMPT_KEYS.has(key) || inDataMap) continue;
    } else if (inDataMap) {
      continue;
    }
    if (!explained) problems.push({ line: index + 1, text: trimmed });
  }
  return problems;
}
