// What the route plugins are given: one object assembled by app.ts.
import type { AccessTokens } from '../access-tokens';
import type { DpopContext } from '../dpop-http';
import type { UserDirectory } from '../passwords';
import type { RefreshTokens } from '../refresh-tokens';
import type { Settings } from '../settings';
import type { Stats } from '../stats';

export interface RouteDeps {
  settings: Settings;
  users: UserDirectory;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  stats: Stats;
  dpop: DpopContext;
}
