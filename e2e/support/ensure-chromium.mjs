// Makes sure `npm test` has a Chromium to drive. Order: CHROMIUM_PATH, Debian's
// /usr/bin/chromium, Playwright's own download. When none is there it installs
// one: Debian's package when running as root with apt, Playwright's installer
// elsewhere.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from '@playwright/test';
import { chromiumPath } from './chromium.mjs';

function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (chromiumPath()) process.exit(0);
if (existsSync(chromium.executablePath())) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && have('apt-get')) {
  console.log('No Chromium found: installing Debian\'s chromium package');
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
} else {
  console.log('No Chromium found: installing Playwright\'s chromium');
  execFileSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
}
