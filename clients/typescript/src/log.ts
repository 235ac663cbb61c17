/**
 * Logging to stderr (stdout stays free for a program's own output, such as
 * the conformance adapter's lines). `JOBQUEUE_LOG` sets the level: `DEBUG`,
 * `INFO` (default), `WARNING`, `ERROR`.
 */

const LEVELS = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 } as const;
type Level = keyof typeof LEVELS;

function threshold(): number {
  const name = (process.env.JOBQUEUE_LOG ?? "INFO").toUpperCase();
  return name in LEVELS ? LEVELS[name as Level] : LEVELS.INFO;
}

/** A named logger writing `<time> <LEVEL> <name>: <message>` lines to stderr. */
export class Logger {
  private readonly min = threshold();

  constructor(private readonly name: string) {}

  private write(level: Level, message: string): void {
    if (LEVELS[level] < this.min) return;
    process.stderr.write(`${new Date().toISOString()} ${level} ${this.name}: ${message}\n`);
  }

  /** Detail for debugging. */
  debug(message: string): void {
    this.write("DEBUG", message);
  }

  /** What the worker does. */
  info(message: string): void {
    this.write("INFO", message);
  }

  /** Something went wrong and will be tried again. */
  warn(message: string): void {
    this.write("WARNING", message);
  }

  /** Something went wrong. */
  error(message: string): void {
    this.write("ERROR", message);
  }
}
