// WebKit, the engine of Safari (WebKitGTK's MiniBrowser through WebDriver).
import { scenarios } from './scenarios';
import { startWebKit } from './webkit';

// WebKit stopped an unused worker between 8 and 10 s after the last page left (measured).
scenarios({ engine: 'WebKit', start: startWebKit, idleStopMs: 15_000 });
