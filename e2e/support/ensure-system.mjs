// Makes sure `npm test` has what its tests drive: a Chromium (CHROMIUM_PATH,
// Debian's /usr/bin/chromium, or Playwright's own download), redis-server (the
// multi-instance tests start their own), WebKitGTK's WebDriver with Xvfb (the
// WebKit tests) and Firefox ESR (the Firefox tests). As root with apt, missing Debian packages are installed;
// elsewhere Chromium comes from Playwright's installer, and anything else
// missing is named, with what to install, before a test runs.
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

const MINIBROWSER = ['/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser', '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser'];
const needChromium = !chromiumPath() && !existsSync(chromium.executablePath());
/** Debian package -> whether it is missing; the same names go in the message elsewhere. */
const packages = {
  'redis-server': !have('redis-server'),
  'webkit2gtk-driver': !have('WebKitWebDriver') || !MINIBROWSER.some((p) => existsSync(p)),
  xvfb: !have('xvfb-run'),
  xauth: !have('xauth'),
  'firefox-esr': !have('firefox-esr') && !have('firefox'),
};
const missing = Object.keys(packages).filter((name) => packages[name]);
const apt = typeof process.getuid === 'function' && process.getuid() === 0 && have('apt-get');

if (apt && (missing.length > 0 || needChromium)) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  console.log(`Installing Debian packages the tests need: ${[...(needChromium ? ['chromium'] : []), ...missing].join(' ')}`);
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  if (needChromium) execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  // WebKitGTK wants its recommended GL and media packages to render.
  if (missing.length > 0) execFileSync('apt-get', ['install', '-y', ...missing], { stdio: 'inherit', env });
} else {
  if (needChromium) {
    console.log("No Chromium found: installing Playwright's chromium");
    execFileSync('npx', ['playwright', 'install', 'chromium'], { stdio: 'inherit' });
  }
  if (missing.length > 0) {
    console.error(
      `npm test needs ${missing.join(', ')}: on Debian or Ubuntu, apt-get install ${missing.join(' ')} ` +
        '(redis-server for the multi-instance tests, webkit2gtk-driver, xvfb and xauth for the WebKit tests, firefox-esr for the Firefox tests). ' +
        'Run as root with apt and npm test installs them itself.',
    );
    process.exit(1);
  }
}
