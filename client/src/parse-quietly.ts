/**
 * Commander parsing for both programs, with commander's own printing captured: a mistake becomes one line the
 * program prints itself (then exits 2), and --help becomes text the program prints (then exits 0).
 */
import { CommanderError, type Command } from 'commander';

/**
 * Parses `argv` (without node and script) with commander's own printing captured (the program needs
 * exitOverride()). --help throws `onHelp(helpText)`; a commander mistake throws `onMistake(line)`, one line ending
 * in "(see --help)", so the program prints exactly one line of its own and never commander's as well.
 */
export function parseQuietly(
  program: Command,
  argv: readonly string[],
  onHelp: (helpText: string) => Error,
  onMistake: (line: string) => Error,
): void {
  let helpText = '';
  program.configureOutput({
    writeOut: (text) => {
      helpText += text;
    },
    writeErr: () => {},
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') throw onHelp(helpText);
    const line = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
    throw onMistake(`${line} (see --help)`);
  }
}
