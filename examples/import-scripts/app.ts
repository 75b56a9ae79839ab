// The page of the importScripts example: the host worker is registered like the standalone one.
import { registerTokenBroker } from '../../client/index';

const broker = await registerTokenBroker({ scriptURL: '/classic-sw.js' });
Object.assign(window, { tokenBroker: broker });
document.body.dataset.ready = 'true';
