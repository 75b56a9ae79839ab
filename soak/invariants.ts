// The soak's judge: pure bookkeeping over what the proxy saw on the wire, what
// the pages saw, and what the soak did. Every observation is checked as it
// arrives; the first violation ends the run. Times are epoch ms on the soak's
// (real) clock; the server's clock is that plus the offset of the clock jumps.

export type InvariantName =
  | 'session-lost'
  | 'page-saw-401'
  | 'signed-in-after-sign-out'
  | 'revoked-token-used'
  | 'concurrent-refresh'
  | 'post-lost'
  | 'post-sent-twice'
  | 'worker-error'
  | 'server-error'
  | 'request-hung'
  | 'no-recovery'
  | 'memory-growth';

export interface Violation {
  at: number;
  invariant: InvariantName;
  detail: string;
}

export interface Lifetimes {
  refreshIdleMs: number;
  refreshAbsoluteMs: number;
  rotationGraceMs: number;
}

export interface Limits {
  /** After a sign-out, or an answer that revoked the family reached the browser, its token must be gone by then. */
  revokedSlackMs: number;
  /** A page's request that has not settled after this has hung. */
  hungRequestMs: number;
  /** Every tab must have a successful API call this long after a fault ends. */
  recoveryMs: number;
}

/** One API request as a page saw it; status 0 is a network error. */
export interface PageResult {
  tab: number;
  id: string;
  method: string;
  status: number;
  /** The `error.code` of a JSON error body. */
  code: string | null;
  /** POSTs: the API echoed exactly the body the page sent. */
  echoOk: boolean | null;
  start: number;
  end: number;
}

/** A refresh as the proxy saw it; status 0 when the connection was dropped before any answer. */
export interface RefreshExchange {
  start: number;
  end: number;
  status: number;
  code: string | null;
  /** From the refusal message: unknown, expired, revoked, reused. */
  reason: string | null;
  /** The family of the access token it issued. */
  sid: string | null;
  /** The proxy dropped the connection after the server had answered: the answer never reached the browser. */
  answerLost: boolean;
  /** The proxy answered in the server's place (an injected 5xx or 429). */
  injected: boolean;
  /** It carried the very DPoP proof of an earlier refresh: the browser's network stack sent that request again. */
  resent?: boolean;
  /** It carried no refresh cookie. */
  cookieless?: boolean;
}

export interface SessionEnd {
  at: number;
  why: 'signed out' | 'idle lifetime' | 'absolute lifetime' | 'reuse after a lost answer';
}

interface Family {
  sid: string;
  loginServerAt: number;
  lastRotationServerAt: number;
  /** When the browser last got the family's cookie, on the soak's clock: its Max-Age is the idle lifetime. */
  cookieSetAt: number;
}

interface FaultWatch {
  kind: string;
  endAt: number;
  /** Recovery is timed from here: the fault's end, or the end of a later fault that came before the tabs recovered. */
  from: number;
  waiting: Set<number>;
}

export interface Recovery {
  kind: string;
  ms: number;
}

export class Invariants {
  readonly violations: Violation[] = [];
  readonly sessionEnds: SessionEnd[] = [];
  readonly recoveries: Recovery[] = [];
  /** 401s that reached a page, by why. */
  readonly pageUnauthorized: Record<string, number> = {};
  /** Each sign-in to its end: what a request or an event is judged against. */
  #sessions: { from: number; to: number | null }[] = [];
  #offsetMs = 0;
  #family: Family | null = null;
  #revoked = new Map<string, number>();
  #refreshesInFlight = 0;
  #posts = new Map<string, (number | 'pending')[]>();
  #lostAnswerAt: number | null = null;
  /** The server revoked the family for a reuse the rules explain, in an answer the browser never heard. */
  #revokedByRule = false;
  #faults: FaultWatch[] = [];

  constructor(
    private readonly lifetimes: Lifetimes,
    private readonly limits: Limits,
    private readonly onViolation: (v: Violation) => void = () => undefined,
  ) {}

  violate(at: number, invariant: InvariantName, detail: string): void {
    const v = { at, invariant, detail };
    this.violations.push(v);
    this.onViolation(v);
  }

  setClockOffset(seconds: number): void {
    this.#offsetMs = seconds * 1000;
  }

  get signedIn(): boolean {
    return this.#sessions.at(-1)?.to === null;
  }

  #liveThrough(from: number, to: number): boolean {
    return this.#sessions.some((s) => s.from <= from && (s.to === null || s.to >= to));
  }

  #liveAt(at: number): boolean {
    return this.#liveThrough(at, at);
  }

  signOutStarted(at: number): void {
    this.#close(at);
  }

  signInDone(at: number): void {
    this.#sessions.push({ from: at, to: null });
  }

  #close(at: number): void {
    const last = this.#sessions.at(-1);
    if (last && last.to === null) last.to = at;
  }

  /** Proxy: a login answered. */
  login(at: number, status: number, sid: string | null): void {
    if (status === 200 && sid) this.#family = { sid, loginServerAt: at + this.#offsetMs, lastRotationServerAt: at + this.#offsetMs, cookieSetAt: at };
    this.#lostAnswerAt = null;
    this.#revokedByRule = false;
  }

  /** Proxy: a logout answered; its family is revoked from now. */
  logout(at: number): void {
    if (this.#family) this.#revoked.set(this.#family.sid, at);
    this.sessionEnds.push({ at, why: 'signed out' });
  }

  refreshStarted(at: number): void {
    if (++this.#refreshesInFlight > 1) this.violate(at, 'concurrent-refresh', `${this.#refreshesInFlight} refreshes in flight for the origin`);
  }

  refreshEnded(x: RefreshExchange): void {
    this.#refreshesInFlight--;
    if (x.status === 200) {
      if (this.#family && x.sid === this.#family.sid && !this.#revokedByRule) {
        this.#family.lastRotationServerAt = x.start + this.#offsetMs;
        if (!x.answerLost) this.#family.cookieSetAt = x.end;
      }
      // The server rotated either way; whether the browser heard of it decides what its next presentation is.
      this.#lostAnswerAt = x.answerLost ? (this.#lostAnswerAt ?? x.end) : null;
      return;
    }
    if (x.injected || x.status === 0 || x.status >= 500 || x.status === 429) return;
    // A nonce challenge (400 at the token endpoints) is answered by a retry, not an end.
    if (x.code === 'use_dpop_nonce') return;
    if (!this.signedIn) return;
    const why = this.#justify(x);
    if (x.answerLost) {
      // The browser never heard this refusal, so nothing ended yet; but a reuse revoked the family on the
      // server, and the browser will hear "revoked" at its next refresh.
      if (why === 'reuse after a lost answer') this.#revokedByRule = true;
      return;
    }
    // Anything else from the refresh endpoint ends the session in every tab: it must be one the rules allow.
    if (why) this.#endSession(x.end, why);
    else this.violate(x.end, 'session-lost', `refresh answered ${x.status} ${x.code ?? ''} (${x.reason ?? 'no reason'}) while the session was alive`);
  }

  #justify(x: RefreshExchange): SessionEnd['why'] | null {
    const family = this.#family;
    if (!family || x.status !== 401 || x.code !== 'invalid_grant') return null;
    const serverNow = x.start + this.#offsetMs;
    // A second of slack for the server's own reading of its clock.
    if (x.reason === 'expired') {
      if (serverNow >= family.lastRotationServerAt + this.lifetimes.refreshIdleMs - 1000) return 'idle lifetime';
      if (serverNow >= family.loginServerAt + this.lifetimes.refreshAbsoluteMs - 1000) return 'absolute lifetime';
    }
    // The cookie's Max-Age is the idle lifetime: once it passed without a rotation the browser dropped the
    // cookie, and a refresh without one is "unknown" to the server. The idle rule all the same.
    if (x.reason === 'unknown' && x.cookieless && x.start >= family.cookieSetAt + this.lifetimes.refreshIdleMs - 1000) return 'idle lifetime';
    // Rotation's own rule: a token presented again after the grace window is reuse. Only the lost answer can cause it.
    if (x.reason === 'reused' && this.#lostAnswerAt !== null && x.start - this.#lostAnswerAt >= this.lifetimes.rotationGraceMs - 500) {
      return 'reuse after a lost answer';
    }
    if (x.reason === 'revoked' && this.#revokedByRule) return 'reuse after a lost answer';
    return null;
  }

  #endSession(at: number, why: SessionEnd['why']): void {
    this.sessionEnds.push({ at, why });
    if (this.#family && why !== 'signed out') this.#revoked.set(this.#family.sid, at);
    this.#close(at);
    this.#lostAnswerAt = null;
  }

  /** Proxy: an API request leaves for the server. */
  apiSent(at: number, sid: string | null, postId: string | null): void {
    const revokedAt = sid ? this.#revoked.get(sid) : undefined;
    if (revokedAt !== undefined && at > revokedAt + this.limits.revokedSlackMs) {
      this.violate(at, 'revoked-token-used', `an API request carried a token of family ${sid}, revoked ${at - revokedAt} ms earlier`);
    }
    if (postId === null) return;
    const sends = this.#posts.get(postId) ?? [];
    const previous = sends.at(-1);
    if (previous !== undefined && previous !== 401) {
      // Even without a token (the API can only refuse it) a second delivery is a bug: the page sent it once.
      const what = previous === 'pending' ? 'no answer yet' : previous;
      this.violate(at, 'post-sent-twice', `POST ${postId} sent again ${sid === null ? 'without' : 'with'} a token after ${what}`);
    }
    sends.push('pending');
    this.#posts.set(postId, sends);
  }

  /** Proxy: a request it had begun to send never reached the server (connection refused): not a send. */
  apiUnsent(postId: string | null): void {
    if (postId) this.#posts.get(postId)?.pop();
  }

  /** Proxy: the API answered a POST (0: no answer). */
  apiAnswered(at: number, status: number, postId: string | null): void {
    if (status === 500) this.violate(at, 'server-error', `the API answered 500${postId ? ` to POST ${postId}` : ''}`);
    const sends = postId ? this.#posts.get(postId) : undefined;
    if (sends) sends[sends.length - 1] = status;
  }

  pageResult(r: PageResult): void {
    if (r.method === 'POST' && r.status >= 200 && r.status < 300) {
      if (!r.echoOk) this.violate(r.end, 'post-lost', `POST ${r.id}: the API echoed another body than the page sent`);
      else if (!this.#posts.get(r.id)?.some((s) => s !== 'pending' && s >= 200 && s < 300)) {
        this.violate(r.end, 'post-lost', `POST ${r.id}: the page got ${r.status} but the API never answered it so`);
      }
    }
    if (r.status === 401) this.#unauthorized(r);
    if (r.status >= 200 && r.status < 300) this.#recovered(r);
    this.#posts.delete(r.id);
  }

  #unauthorized(r: PageResult): void {
    let why = 'session ended while it was in flight';
    if (!this.#liveAt(r.start)) why = 'signed out';
    else if (this.#liveThrough(r.start, r.end)) {
      why = 'while signed in';
      this.violate(r.end, 'page-saw-401', `request ${r.id} (${r.method}) got 401 ${r.code ?? ''} while the session was alive`);
    }
    this.pageUnauthorized[why] = (this.pageUnauthorized[why] ?? 0) + 1;
  }

  /** A page's session event; an end the server never announced is a lost session. */
  pageSessionEvent(tab: number, reason: string, at: number): void {
    if (reason === 'expired' && this.#liveAt(at)) {
      this.violate(at, 'session-lost', `tab ${tab} was told its session expired, and the server refused no refresh`);
    }
  }

  /** Pages that still hold requests started before `now - hungRequestMs`. */
  pending(tab: number, oldestStart: number | null, now: number): void {
    if (oldestStart !== null && now - oldestStart > this.limits.hungRequestMs) {
      this.violate(now, 'request-hung', `tab ${tab} has a request unsettled for ${now - oldestStart} ms`);
    }
  }

  workerError(at: number, text: string): void {
    this.violate(at, 'worker-error', text);
  }

  #inFault = false;

  /** A fault began: no tab can be expected to recover while it lasts. */
  faultStarted(): void {
    this.#inFault = true;
  }

  /**
   * A fault ended: every open tab must get an API call through again. Faults that were still waiting for
   * their tabs wait from now: after a failed refresh the worker cools down for up to 30 s, so a tab that
   * met one outage after another recovers only once they stop.
   */
  faultEnded(kind: string, at: number, tabs: number[]): void {
    this.#inFault = false;
    for (const f of this.#faults) f.from = at;
    this.#faults.push({ kind, endAt: at, from: at, waiting: new Set(tabs) });
  }

  tabClosed(tab: number): void {
    for (const f of this.#faults) f.waiting.delete(tab);
    this.#settleFaults();
  }

  #recovered(r: PageResult): void {
    for (const f of this.#faults) if (r.start >= f.endAt) f.waiting.delete(r.tab);
    this.#settleFaults(r.end);
  }

  #settleFaults(now?: number): void {
    this.#faults = this.#faults.filter((f) => {
      if (f.waiting.size > 0) return true;
      // A call that got through before a later fault ended (its result read afterwards) counts from the fault's own end.
      if (now !== undefined) this.recoveries.push({ kind: f.kind, ms: now - (now >= f.from ? f.from : f.endAt) });
      return false;
    });
  }

  /** Faults whose tabs have not all recovered yet. */
  get awaitingRecovery(): number {
    return this.#faults.length;
  }

  /** Called on a timer: a fault whose tabs have not recovered in time is a violation. */
  checkRecovery(now: number): void {
    if (this.#inFault) return;
    for (const f of this.#faults) {
      if (now - f.from > this.limits.recoveryMs) {
        const since = f.from === f.endAt ? '' : ` since the last fault that followed it`;
        this.violate(now, 'no-recovery', `after ${f.kind}, tabs ${[...f.waiting].join(', ')} had no successful API call for ${now - f.from} ms${since}`);
        f.waiting.clear();
      }
    }
    this.#settleFaults();
  }
}

export interface MemorySample {
  at: number;
  bytes: number;
}

/**
 * Unbounded growth: the median of the last third of the samples against the
 * median of the first third (after warm-up), beyond both a ratio and an
 * absolute slack, so that noise and a filled cache are not called a leak.
 */
export function memoryGrowth(samples: MemorySample[], slackBytes: number, ratio = 1.5): { from: number; to: number; grew: boolean } | null {
  if (samples.length < 6) return null;
  const third = Math.floor(samples.length / 3);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const from = median(samples.slice(0, third).map((s) => s.bytes));
  const to = median(samples.slice(-third).map((s) => s.bytes));
  return { from, to, grew: to > from * ratio && to - from > slackBytes };
}
