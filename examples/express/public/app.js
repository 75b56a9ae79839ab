// The page: registers the worker, signs in and out, and calls the API with plain fetch.
import { registerTokenBroker } from '/token-broker-client.js';

const $ = (id) => document.getElementById(id);
const show = (session) => {
  $('state').textContent = session.authenticated ? `signed in as ${session.claims.name}` : 'signed out';
  $('login').disabled = session.authenticated;
  $('logout').disabled = !session.authenticated;
  $('me').disabled = !session.authenticated;
};

const broker = await registerTokenBroker({ scriptURL: '/sw.js' });
window.tokenBroker = broker;
broker.onSessionChange(({ session }) => show(session));
$('login').onclick = async () => show(await broker.login({ username: 'alice', password: 'wonderland' }));
$('logout').onclick = async () => show(await broker.logout());
$('me').onclick = async () => ($('out').textContent = await (await fetch('/api/me')).text());
show(await broker.status());
document.body.dataset.ready = 'true';
