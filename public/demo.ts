// The demo SPA: signs in through the broker, calls the API with plain fetch,
// shows the session and the events every tab receives.
import { registerTokenBroker, TokenBrokerError, type Session, type TokenBroker } from '../client/index';

declare global {
  interface Window {
    tokenBroker: TokenBroker;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let session: Session | null = null;

function log(reason: string, detail = ''): void {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  const label = document.createElement('span');
  label.className = 'reason';
  label.textContent = reason;
  item.append(time, label, detail);
  $('event-log').prepend(item);
}

function validity(s: Session): string {
  if (!s.authenticated) return 'signed out';
  const user = String(s.claims.name ?? s.claims.sub);
  return s.expiresAt === null ? user : `${user}, token valid for ${Math.round((s.expiresAt - Date.now()) / 1000)} s`;
}

function describeError(err: unknown): string {
  return err instanceof TokenBrokerError ? `${err.code}: ${err.message}` : String(err);
}

function render(): void {
  const signedIn = session?.authenticated === true;
  document.body.dataset.authenticated = String(signedIn);
  $('session-state').textContent = session === null ? 'checking…' : signedIn ? `signed in as ${String(session.claims.sub)}` : 'signed out';
  $('claims').textContent = signedIn ? JSON.stringify(session!.claims, null, 2) : '–';
  $<HTMLButtonElement>('logout').disabled = !signedIn;
  $<HTMLButtonElement>('force-refresh').disabled = !signedIn;
  renderExpiry();
}

function renderExpiry(): void {
  const expiresAt = session?.authenticated ? session.expiresAt : null;
  $('expires-in').textContent =
    expiresAt === null ? '–' : `${Math.max(0, Math.round((expiresAt - Date.now()) / 1000))} s, renewed by the worker before it runs out`;
}

async function callApi(path: string, init?: RequestInit): Promise<void> {
  const out = $('api-result');
  try {
    const res = await fetch(path, init);
    const text = await res.text();
    let shown = text;
    try {
      shown = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON: show as is
    }
    out.textContent = `${res.status} ${res.statusText}\n${shown}`;
  } catch (err) {
    out.textContent = `network error: ${String(err)}`;
  }
}

async function act(label: string, action: () => Promise<Session>): Promise<void> {
  try {
    session = await action();
    render();
  } catch (err) {
    log(`${label} failed`, describeError(err));
  }
}

async function main(): Promise<void> {
  let broker: TokenBroker;
  try {
    // The worker's configuration is the server's (WORKER_CONFIG), served with
    // the script: nothing in this page's address can change it.
    broker = await registerTokenBroker({ scriptURL: '/sw-dpop.js' });
  } catch (err) {
    const box = $('unsupported');
    box.textContent =
      `The token broker could not start, so this demo cannot sign in. ${describeError(err).replace(/\.?$/, '.')} ` +
      'Service workers need a secure context (https, or http://localhost), a normal (not private) window, and no extension or policy blocking them.';
    box.hidden = false;
    document.body.dataset.ready = 'error';
    return;
  }
  window.tokenBroker = broker;
  $<HTMLAnchorElement>('open-tab').href = location.href;

  broker.onSessionChange((event) => {
    session = event.session;
    render();
    log(event.reason, validity(event.session));
  });

  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const username = $<HTMLInputElement>('username').value;
    const password = $<HTMLInputElement>('password').value;
    void act('Sign in', () => broker.login({ username, password }));
  });
  $<HTMLFieldSetElement>('login-fields').disabled = false;
  $('logout').addEventListener('click', () => void act('Sign out', () => broker.logout()));
  $('force-refresh').addEventListener('click', () => void act('Refresh', () => broker.refresh()));
  $('call-me').addEventListener('click', () => void callApi('/api/me'));
  $('call-echo').addEventListener('click', () =>
    void callApi('/api/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'hello from the page', at: new Date().toISOString() }),
    }),
  );
  setInterval(renderExpiry, 1000);

  await act('Status', () => broker.status());
  document.body.dataset.ready = 'true';
}

void main();
