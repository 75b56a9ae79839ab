// The page of the Workbox example: registers the app's own worker through the client.
import { registerTokenBroker } from '../../client/index';

const broker = await registerTokenBroker({ scriptURL: '/example-sw.js' });
Object.assign(window, { tokenBroker: broker });
document.body.dataset.ready = 'true';
