// Runs before `npm run test:e2e`: the browser tests drive an installed Chromium (never a downloaded
// one), so a missing one is said in one message instead of a launch stack trace per test.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

// The same default as test/e2e/browser.ts.
const wanted = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const runnable = (file) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

if (!runnable(wanted)) {
  // Other names Chromium and Chrome go by, to suggest one that is already installed.
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const found = names.flatMap((n) => dirs.map((d) => path.join(d, n))).find(runnable);
  console.error(
    [
      `npm run test:e2e drives Chromium, and there is none at ${wanted}${process.env.CHROMIUM_PATH ? ' (CHROMIUM_PATH)' : ''}.`,
      found
        ? `  One is installed at ${found}: CHROMIUM_PATH=${found} npm run test:e2e`
        : '  Install it: sudo apt-get install chromium (Debian; .ci/run does this),',
      found
        ? ''
        : '  or point CHROMIUM_PATH at a Chromium or Chrome binary: CHROMIUM_PATH=/path/to/chrome npm run test:e2e',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  process.exit(1);
}
