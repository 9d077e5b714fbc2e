// Reads what the static checks need from a Dockerfile without building it: each stage's base image (with the
// global ARG defaults substituted) and the build-context paths it copies.

/** One build stage: the image it starts FROM, and its name. */
export interface DockerfileStage {
  /** The base as written after substitution, e.g. "node:22.11.0-bookworm-slim" or an earlier stage's name. */
  from: string;
  alias: string | undefined;
  /** True when `from` names an earlier stage rather than an image from a registry. */
  fromStage: boolean;
}

/** The stages of a Dockerfile and the build-context paths its COPY/ADD instructions read (not those copied
 * --from another stage). */
export interface DockerfileFacts {
  stages: DockerfileStage[];
  contextSources: string[];
}

/** Joins backslash-continued lines and drops comments and blank lines, as the Dockerfile parser does. */
function instructions(text: string): string[] {
  const result: string[] = [];
  let pending = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    result.push(`${pending}${line}`.trim());
    pending = '';
  }
  if (pending.trim() !== '') result.push(pending.trim());
  return result;
}

function substitute(text: string, args: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_match, braced?: string, fallback?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return args[name] ?? fallback ?? '';
  });
}

/** Parses FROM, ARG (before the first FROM) and USER instructions of a Dockerfile's text. */
export function readDockerfile(text: string): DockerfileFacts {
  const globalArgs: Record<string, string> = {};
  const stages: DockerfileStage[] = [];
  const contextSources: string[] = [];
  for (const instruction of instructions(text)) {
    const [keyword = '', ...rest] = instruction.split(/\s+/);
    const upper = keyword.toUpperCase();
    if (upper === 'ARG' && stages.length === 0) {
      for (const declaration of rest) {
        const [name = '', ...value] = declaration.split('=');
        globalArgs[name] = value.join('=').replace(/^["']|["']$/g, '');
      }
    } else if (upper === 'FROM') {
      const words = rest.filter((word) => !word.startsWith('--'));
      const from = substitute(words[0] ?? '', globalArgs);
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      const alias = asIndex >= 0 ? words[asIndex + 1] : undefined;
      const fromStage = stages.some((stage) => stage.alias !== undefined && stage.alias === from);
      stages.push({ from, alias, fromStage });
    } else if (upper === 'COPY' || upper === 'ADD') {
      contextSources.push(...copySources(instruction.slice(keyword.length).trim()));
    }
  }
  return { stages, contextSources };
}

// The sources of one COPY/ADD (shell or JSON form), or none when it copies from another stage or image.
function copySources(argumentsText: string): string[] {
  const flags: string[] = [];
  let rest = argumentsText;
  for (let flag = /^(--\S+)\s+/.exec(rest); flag; flag = /^(--\S+)\s+/.exec(rest)) {
    flags.push(flag[1] ?? '');
    rest = rest.slice(flag[0].length);
  }
  if (flags.some((flag) => flag.startsWith('--from='))) return [];
  const words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/);
  // The last word is the destination; URLs (ADD) do not come from the build context.
  return words.slice(0, -1).filter((source) => !/^[a-z]+:\/\//.test(source));
}
