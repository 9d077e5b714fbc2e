import { InvalidArgumentError } from 'commander';

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
