/**
 * A one-line progress bar on stderr for large imports (redrawn in place on a terminal, a line
 * every 10% otherwise). `silentProgress` is for tests and library use.
 */
export interface Progress {
  start(label: string, total: number): void;
  tick(): void;
  done(): void;
}

export const silentProgress: Progress = { start() {}, tick() {}, done() {} };

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let label = '';
  let total = 0;
  let n = 0;
  let lastDecile = -1;
  const draw = () => {
    const pct = total ? Math.floor((n / total) * 100) : 100;
    if (stream.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      stream.write(`\r${label.padEnd(20)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${n}/${total}`);
    } else if (Math.floor(pct / 10) !== lastDecile) {
      lastDecile = Math.floor(pct / 10);
      stream.write(`${label}: ${n}/${total}\n`);
    }
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      n = 0;
      lastDecile = -1;
      if (t > 0) draw();
    },
    tick() {
      n++;
      // Redraw at most ~200 times per phase.
      if (n === total || n % Math.max(1, Math.floor(total / 200)) === 0) draw();
    },
    done() {
      if (total > 0 && stream.isTTY) stream.write('\n');
    },
  };
}
