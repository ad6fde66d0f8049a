import type { ReactNode } from 'react';
import { Link } from '../router.tsx';
import { PAGES } from '../pages/registry.ts';
import { useSession } from '../session.tsx';
import { useAction } from '../use-query.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

/** The frame of every logged-in page: header (who, role, logout), left navigation, content. */
export function Shell({ path, children }: { path: string; children: ReactNode }) {
  const { user, logout } = useSession();
  const out = useAction();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="header">
        <Link to="/" className="brand">
          grim
        </Link>
        <div className="header-user">
          <span className="user-name">{user.username}</span>
          <span className={`role-badge role-${user.role}`}>
            <span className="visually-hidden">role: </span>
            {user.role}
          </span>
          <button
            type="button"
            className="button button-quiet"
            onClick={() => out.run(logout)}
            disabled={out.busy}
          >
            Log out
          </button>
        </div>
      </header>
      <nav className="nav" aria-label="Main">
        <ul>
          {PAGES.map((p) => (
            <li key={p.path}>
              <Link to={p.path} className="nav-link" aria-current={p.path === path ? 'page' : undefined}>
                {p.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <ErrorMessage error={out.error} title="Logging out failed." />
        {children}
      </main>
    </div>
  );
}
