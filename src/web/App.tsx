import { Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, call, client, onUnauthenticated } from './api.ts';
import { navigate, usePath } from './router.tsx';
import { SessionContext, type Principal, type Session } from './session.tsx';
import { matchPage } from './pages/registry.ts';
import { Shell } from './components/Shell.tsx';
import { ErrorBoundary } from './components/ErrorBoundary.tsx';
import { ErrorMessage } from './components/ErrorMessage.tsx';
import { LoginPage } from './pages/login/LoginPage.tsx';
import { NotFoundPage } from './pages/not-found/NotFoundPage.tsx';

type State =
  | { kind: 'checking' }
  | { kind: 'anonymous'; notice?: string }
  | { kind: 'failed'; error: unknown }
  | { kind: 'in'; user: Principal };

export function App() {
  const path = usePath();
  const [state, setState] = useState<State>({ kind: 'checking' });

  const check = useCallback(() => {
    setState({ kind: 'checking' });
    call('whoami').then(
      (r) => {
        client.state.csrfToken = r.csrfToken;
        setState({ kind: 'in', user: r.user });
      },
      (error: unknown) =>
        setState(
          error instanceof ApiError && error.status === 401
            ? { kind: 'anonymous' }
            : { kind: 'failed', error },
        ),
    );
  }, []);

  useEffect(check, [check]);
  useEffect(
    () =>
      onUnauthenticated(() => {
        client.state.csrfToken = undefined;
        setState({ kind: 'anonymous', notice: 'Your session has ended. Log in again.' });
      }),
    [],
  );

  const session = useMemo<Session | null>(
    () =>
      state.kind === 'in'
        ? {
            user: state.user,
            logout: async () => {
              await call('logout');
              client.state.csrfToken = undefined;
              setState({ kind: 'anonymous', notice: 'You are logged out.' });
              navigate('/login', { replace: true });
            },
          }
        : null,
    [state],
  );

  if (state.kind === 'checking') return <p className="loading-screen">Loading…</p>;
  if (state.kind === 'failed')
    return (
      <div className="center-screen">
        <ErrorMessage error={state.error} title="grim could not check your session." />
        <button type="button" className="button" onClick={check}>
          Try again
        </button>
      </div>
    );
  if (state.kind === 'anonymous' || !session)
    return (
      <LoginPage
        notice={state.kind === 'anonymous' ? state.notice : undefined}
        onLoggedIn={(user) => {
          setState({ kind: 'in', user });
          if (path === '/login') navigate('/', { replace: true });
        }}
      />
    );

  const found = matchPage(path === '/login' ? '/' : path);
  const Content = found?.entry.component ?? NotFoundPage;
  return (
    <SessionContext.Provider value={session}>
      <Shell path={found?.entry.path ?? path}>
        <ErrorBoundary resetKey={path}>
          <Suspense fallback={<p className="muted">Loading…</p>}>
            <Content key={path} params={found?.params ?? {}} />
          </Suspense>
        </ErrorBoundary>
      </Shell>
    </SessionContext.Provider>
  );
}
