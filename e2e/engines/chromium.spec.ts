// Chromium (Debian's Chromium through Playwright), through the same scenarios as WebKit and Firefox.
import { startChromium } from './chromium';
import { scenarios } from './scenarios';

// The driver stops workers through CDP (Engine.stopWorkers), as Chromium does about 30 s after the last page left.
scenarios({ engine: 'Chromium', start: startChromium, idleStopMs: 0 });
