/**
 * Live progress of an order at a terminal: the core's Reporter steps as a list on stderr, the running
 * one with a spinner, finished ones ticked. Only for people: never with --json or -q, never off a TTY
 * (there, steps stay plain lines that only --verbose shows).
 */
import type { Reporter } from '../report.js';
import type { OutputFlags, Styles } from './output.js';

export type ProgressOutcome = 'done' | 'failed' | 'cancelled';

export interface ProgressReporter extends Reporter {
  /** Marks the running step done, failed or cancelled and stops the spinner. Safe to call twice. */
  end(outcome: ProgressOutcome): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;
/** Carriage return + erase the line: the running step is redrawn in place. */
const REDRAW = '\r\x1b[2K';

/** A person watching: stderr is a terminal (not a dumb one, not a CI log), and neither --json nor -q. */
export function wantsLiveProgress(flags: OutputFlags, stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
  return stream.isTTY === true && !flags.json && !flags.quiet && !ci && env.TERM !== 'dumb';
}

/**
 * A step list on `stream`. Warnings (and, with --verbose, debug lines) are printed above the running
 * step. Lines are cut to the terminal's width: a wrapped line could not be redrawn in place.
 */
export function liveProgress(stream: NodeJS.WriteStream, style: Styles, flags: Pick<OutputFlags, 'verbose'>): ProgressReporter {
  let running: string | undefined;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;

  const fit = (text: string): string => {
    const width = Math.max(20, (stream.columns ?? 80) - 3);
    return text.length > width ? `${text.slice(0, width - 1)}…` : text;
  };
  const draw = () => {
    if (running !== undefined) stream.write(`${REDRAW}${style.warn(FRAMES[frame % FRAMES.length] ?? '-')} ${fit(running)}`);
  };
  const settle = (mark: string, note = '') => {
    if (running === undefined) return;
    stream.write(`${REDRAW}${mark} ${fit(running)}${note}\n`);
    running = undefined;
  };
  const above = (line: string) => {
    if (running !== undefined) stream.write(REDRAW);
    stream.write(`${line}\n`);
    draw();
  };

  return {
    step(message) {
      settle(style.ok('✔'));
      running = message;
      frame = 0;
      draw();
      if (timer === undefined) {
        timer = setInterval(() => {
          frame += 1;
          draw();
        }, FRAME_MS);
        timer.unref(); // never what keeps the process alive
      }
    },
    warn(message) {
      above(style.warn(`warning: ${message}`));
    },
    debug(message) {
      if (flags.verbose) above(style.dim(message));
    },
    end(outcome) {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      if (outcome === 'done') settle(style.ok('✔'));
      else if (outcome === 'failed') settle(style.bad('✖'));
      else settle(style.warn('✖'), style.dim(' (cancelled)'));
    },
  };
}
