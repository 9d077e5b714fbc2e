// What every command line of the kit shares (npm start, lab, bench, setup:envoy): one way to build a program,
// one way to say a mistake (`<program>: <reason>`, exit 2), one way to turn any error into that one line.
import { Command, InvalidArgumentError } from 'commander';

/** A commander program that prints a usage mistake as its one line and exits 2 (0 for --help and --version). */
export function commandLine(name: string): Command {
  return new Command(name)
    .configureOutput({ outputError: (message, write) => write(oneLineError(name, message)) })
    .showHelpAfterError(false)
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
}

/** A commander option/argument parser for a whole number from `min` to `max`; the message names `what`. */
export function integerIn(min: number, max: number, what: string): (value: string) => number {
  return (value: string): number => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${what} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

/**
 * Commander's error text as the program's one line, `<program>: <reason>`: without commander's "error:" and the
 * "option '--x <n>' argument 'y' is invalid." prefix that only repeats what our own message says.
 */
export function oneLineError(program: string, message: string): string {
  const reason = message
    .replace(/^error: /, '')
    .replace(/^option '[^']+' argument '[^']*' is invalid\. /, '')
    .replace(/^command-argument value '[^']*' is invalid for argument '[^']*'\. /, '');
  return `${program}: ${reason}`;
}

/** The first line of an error's message, for a one-line report (anything thrown, not only Errors). */
export function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
