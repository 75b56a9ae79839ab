// A React app on token-broker/react: one provider, and useSession() wherever
// the session is rendered. StrictMode runs effects twice; the provider copes.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { TokenBrokerProvider, useSession } from 'token-broker/react';

type Claims = { sub: string; name: string };

function App() {
  const { broker, session, error } = useSession<Claims>();
  if (error) return <p role="alert">The token broker could not start: {error.code}</p>;
  if (!broker || !session) return <p>Starting…</p>;
  if (!session.authenticated) {
    return <button onClick={() => void broker.login({ username: 'alice', password: 'wonderland' })}>Sign in</button>;
  }
  return (
    <section>
      <p data-testid="greeting">Signed in as {session.claims.name}</p>
      <button onClick={() => void broker.logout()}>Sign out</button>
    </section>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <TokenBrokerProvider options={{ scriptURL: '/sw.js' }}>
      <App />
    </TokenBrokerProvider>
  </StrictMode>,
);
