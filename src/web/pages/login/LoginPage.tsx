import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, call, client } from '../../api.ts';
import type { Principal } from '../../session.tsx';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';

interface Props {
  onLoggedIn(user: Principal): void;
  notice?: string;
}

export function LoginPage({ onLoggedIn, notice }: Props) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const login = useAction();
  useEffect(() => {
    document.title = 'Log in · grim';
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const r = await login.run(() => call('login', { body: { username, password } }));
    if (!r) return;
    client.state.csrfToken = r.csrfToken;
    onLoggedIn(r.user);
  };

  const limited = login.error instanceof ApiError && login.error.status === 429;
  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title" className="login-title">
          grim
        </h1>
        <p className="login-sub">Log in to manage your nodes.</p>
        {notice && !login.error && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="login-username">Username</label>
        <input
          id="login-username"
          name="username"
          autoComplete="username"
          autoFocus
          required
          maxLength={64}
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={1024}
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <ErrorMessage error={login.error} title={limited ? 'Too many attempts.' : undefined} />
        <button type="submit" className="button button-primary" disabled={login.busy}>
          {login.busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  );
}
