// Firefox (Debian's Firefox ESR through WebDriver BiDi).
import { startFirefox } from './firefox';
import { scenarios } from './scenarios';

// With idle_timeout at 3 s (firefox.ts), an unused worker is stopped within a few seconds.
scenarios({ engine: 'Firefox', start: startFirefox, idleStopMs: 10_000 });
