// The passkey specs' page: the built passkeys entry, @simplewebauthn/browser and the client
// served beside the demo, a CDP virtual authenticator (user verification on), and alice
// signed in. WebAuthn refuses an IP address as the RP id, so the page runs on localhost.
import { readFileSync } from 'node:fs';
import type { BrowserContext, CDPSession, Page } from '@playwright/test';
import { login, openApp, type RunningServer } from './fixtures';

export const WEBAUTHN_UMD = 'node_modules/@simplewebauthn/browser/dist/bundle/index.umd.min.js';

export const localOrigin = (server: RunningServer) => `http://localhost:${server.port}`;

export async function passkeyPage(context: BrowserContext, page: Page, server: RunningServer): Promise<{ cdp: CDPSession; authenticatorId: string; origin: string }> {
  // The passkeys entry imports the client by its package name; served here beside it.
  const passkeys = readFileSync('dist/passkeys/index.js', 'utf8').replaceAll('"token-broker/client"', '"/client.js"');
  await context.route('**/passkeys.js', (route) => route.fulfill({ body: passkeys, contentType: 'text/javascript' }));
  await context.route('**/webauthn.js', (route) => route.fulfill({ path: WEBAUTHN_UMD, contentType: 'text/javascript' }));
  await context.route('**/client.js', (route) => route.fulfill({ path: 'dist/client/index.js', contentType: 'text/javascript' }));
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  const origin = localOrigin(server);
  await openApp(page, { url: origin });
  await login(page);
  return { cdp, authenticatorId, origin };
}
