// oidc-provider ships no types and @types/oidc-provider is not installed: the
// few members the test provider uses, described here and nowhere else.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Account { accountId: string; claims(): Promise<Record<string, unknown>> }
  interface Interaction { uid: string }
  interface InteractionDetails {
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, unknown>;
    grantId?: string;
  }
  interface ProviderClient { grantTypeAllowed(grant: string): boolean }
  class Grant {
    constructor(init: { accountId: string; clientId: string });
    static find(id: string): Promise<Grant | undefined>;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
  }
  interface Configuration {
    clients: Record<string, unknown>[];
    findAccount(ctx: unknown, sub: string): Promise<Account | undefined>;
    claims: Record<string, string[]>;
    scopes: string[];
    interactions: { url(ctx: unknown, interaction: Interaction): string };
    features: Record<string, { enabled: boolean } & Record<string, unknown>>;
    rotateRefreshToken?: boolean;
    issueRefreshToken(ctx: unknown, client: ProviderClient): Promise<boolean>;
    ttl: Record<string, number>;
    jwks: { keys: Record<string, unknown>[] };
    cookies: { keys: string[] };
    extraParams?: string[];
  }
  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    Grant: typeof Grant;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each event passes its own arguments
    on(event: string, listener: (...args: any[]) => void): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    /** Koa middleware around every endpoint. */
    use(middleware: (ctx: { path: string }, next: () => Promise<void>) => Promise<void>): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  }
}
