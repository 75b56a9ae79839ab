// Finds a Chromium for Playwright: an explicit CHROMIUM_PATH, then Debian's
// package, then Playwright's own download (undefined = let Playwright decide).
import { existsSync } from 'node:fs';

const SYSTEM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** @returns {string | undefined} */
export function chromiumPath() {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH=${configured} does not exist`);
    return configured;
  }
  return SYSTEM_CANDIDATES.find((p) => existsSync(p));
}

// Flags for a sandboxed, offline machine; harmless on a developer's laptop.
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
