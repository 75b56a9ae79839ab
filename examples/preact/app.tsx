// A small Preact app on the broker: sign in, show the user, sign out.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { registerTokenBroker, TokenBrokerError, type TokenBroker } from '../../client/index';
import { useSession } from './use-session';

function App({ broker }: { broker: TokenBroker }) {
  const session = useSession(broker);
  const [me, setMe] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function signIn(event: Event) {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    setError(null);
    try {
      await broker.login({ username: form.get('username'), password: form.get('password') });
      const res = await fetch('/api/me');
      setMe(((await res.json()) as { name: string }).name);
    } catch (err) {
      setError(err instanceof TokenBrokerError ? err.message : String(err));
    }
  }

  if (session === null) return <p>Loading…</p>;
  if (!session.authenticated) {
    return (
      <form onSubmit={signIn}>
        <input name="username" aria-label="User" defaultValue="alice" />
        <input name="password" aria-label="Password" type="password" defaultValue="wonderland" />
        <button type="submit">Sign in</button>
        {error && <p role="alert">{error}</p>}
      </form>
    );
  }
  return (
    <section>
      <p data-testid="greeting">Signed in as {me ?? String(session.claims.sub)}</p>
      <button type="button" onClick={() => void broker.logout()}>
        Sign out
      </button>
    </section>
  );
}

// The claims it shows are the server's choice (its WORKER_CONFIG exposes sub, name and role).
const broker = await registerTokenBroker();
render(<App broker={broker} />, document.getElementById('root')!);
document.body.dataset.ready = 'true';
