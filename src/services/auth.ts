import type { Db } from '../store/db.ts';
import { DomainError, conflict, invalid, notFound } from '../domain/errors.ts';
import { effectiveRole, type Role } from '../domain/roles.ts';
import { dummyHash, hashPassword, verifyPassword } from './passwords.ts';
import { newId, secretToken, sha256 } from './ids.ts';

export interface Principal {
  userId: string;
  username: string;
  role: Role;
  via: 'session' | 'token';
  tokenId?: string;
  csrfToken?: string;
  /** Deployer tokens: the only apps they may deploy. */
  apps?: string[];
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: Role;
  disabled: number;
  created_at: number;
}
const publicUser = (u: UserRow) => ({
  id: u.id,
  username: u.username,
  role: u.role,
  disabled: !!Number(u.disabled),
  createdAt: Number(u.created_at),
});

const SESSION_TTL_MS = 12 * 3600_000;

export class AuthService {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async countUsers(): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users');
    return Number(r?.n ?? 0);
  }

  async createUser(username: string, password: string, role: Role) {
    const hash = await hashPassword(password);
    const now = Date.now();
    const id = newId();
    return this.db.transaction(async (tx) => {
      if (await tx.get('SELECT id FROM users WHERE username = ?', [username]))
        throw conflict(`user ${username} exists`);
      await tx.run(
        'INSERT INTO users (id, username, password_hash, role, disabled, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)',
        [id, username, hash, role, now, now],
      );
      return publicUser({ id, username, password_hash: hash, role, disabled: 0, created_at: now });
    });
  }

  async listUsers() {
    return (await this.db.all<UserRow>('SELECT * FROM users ORDER BY username')).map(publicUser);
  }

  async getUser(id: string) {
    const u = await this.db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    if (!u) throw notFound(`user ${id}`);
    return u;
  }

  async updateUser(id: string, patch: { role?: Role; password?: string; disabled?: boolean }) {
    const u = await this.getUser(id);
    if ((patch.role && patch.role !== 'admin') || patch.disabled) await this.assertNotLastAdmin(u);
    const hash = patch.password ? await hashPassword(patch.password) : u.password_hash;
    const role = patch.role ?? u.role;
    const disabled = patch.disabled === undefined ? Number(u.disabled) : patch.disabled ? 1 : 0;
    await this.db.run(
      'UPDATE users SET role = ?, password_hash = ?, disabled = ?, updated_at = ? WHERE id = ?',
      [role, hash, disabled, Date.now(), id],
    );
    if (patch.password || disabled) await this.db.run('DELETE FROM sessions WHERE user_id = ?', [id]);
    return publicUser({ ...u, role, password_hash: hash, disabled });
  }

  async deleteUser(id: string) {
    const u = await this.getUser(id);
    await this.assertNotLastAdmin(u);
    await this.db.run('DELETE FROM users WHERE id = ?', [id]);
  }

  private async assertNotLastAdmin(u: UserRow) {
    if (u.role !== 'admin') return;
    const r = await this.db.get<{ n: number }>(
      "SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0",
    );
    if (Number(r?.n ?? 0) <= 1) throw conflict('cannot remove or demote the last admin');
  }

  /** Checks a password; always spends the same KDF time whether or not the user exists. */
  async checkPassword(username: string, password: string): Promise<UserRow | null> {
    const u = await this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    const ok = await verifyPassword(password, u?.password_hash ?? (await dummyHash()));
    return u && ok && !Number(u.disabled) ? u : null;
  }

  async changeOwnPassword(userId: string, current: string, next: string) {
    const u = await this.getUser(userId);
    if (!(await verifyPassword(current, u.password_hash)))
      throw invalid('current password is wrong', [{ path: '/currentPassword', message: 'does not match' }]);
    await this.updateUser(userId, { password: next });
  }

  async createSession(user: { id: string }) {
    const sid = secretToken('gs');
    const csrf = secretToken('gc');
    const now = Date.now();
    await this.db.run('DELETE FROM sessions WHERE expires_at < ?', [now]);
    await this.db.run(
      'INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      [sha256(sid), user.id, csrf, now, now + SESSION_TTL_MS],
    );
    return { sid, csrf, expiresAt: now + SESSION_TTL_MS };
  }

  async endSession(sid: string) {
    await this.db.run('DELETE FROM sessions WHERE id_hash = ?', [sha256(sid)]);
  }

  async principalFromSession(sid: string): Promise<Principal | null> {
    const r = await this.db.get<UserRow & { csrf_token: string; expires_at: number }>(
      `SELECT u.*, s.csrf_token, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
      [sha256(sid)],
    );
    if (!r || Number(r.expires_at) < Date.now() || Number(r.disabled)) return null;
    return { userId: r.id, username: r.username, role: r.role, via: 'session', csrfToken: r.csrf_token };
  }

  async principalFromToken(
    secret: string,
  ): Promise<{ principal: Principal; firstUseInHour: boolean } | null> {
    const r = await this.db.get<
      UserRow & {
        tid: string;
        trole: Role;
        expires_at: number | null;
        revoked_at: number | null;
        last_used_at: number | null;
        apps: string | null;
      }
    >(
      `SELECT u.*, t.id AS tid, t.role AS trole, t.expires_at, t.revoked_at, t.last_used_at, t.apps
       FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`,
      [sha256(secret)],
    );
    const now = Date.now();
    if (
      !r ||
      r.revoked_at !== null ||
      Number(r.disabled) ||
      (r.expires_at !== null && Number(r.expires_at) < now)
    )
      return null;
    const firstUseInHour = r.last_used_at === null || now - Number(r.last_used_at) > 3600_000;
    if (firstUseInHour)
      await this.db.run('UPDATE api_tokens SET last_used_at = ? WHERE id = ?', [now, r.tid]);
    const role = effectiveRole(r.role, r.trole);
    return {
      principal: {
        userId: r.id,
        username: r.username,
        role,
        via: 'token',
        tokenId: r.tid,
        ...(role === 'deployer' ? { apps: r.apps ? (JSON.parse(r.apps) as string[]) : [] } : {}),
      },
      firstUseInHour,
    };
  }

  async createToken(owner: Principal, name: string, role: Role, expiresInDays?: number, apps?: string[]) {
    if (effectiveRole(owner.role, role) !== role || owner.role === 'deployer')
      throw new DomainError('forbidden', `a ${owner.role} cannot create a token with role ${role}`);
    if (role === 'deployer' && !apps?.length)
      throw invalid('a deployer token needs the apps it may deploy', [
        { path: 'body/apps', message: 'required for role deployer' },
      ]);
    if (role !== 'deployer' && apps)
      throw invalid('only deployer tokens have an app scope', [
        { path: 'body/apps', message: 'allowed for role deployer only' },
      ]);
    const secret = secretToken('grim');
    const id = newId();
    const now = Date.now();
    const expiresAt = expiresInDays ? now + expiresInDays * 86400_000 : null;
    await this.db.run(
      'INSERT INTO api_tokens (id, name, user_id, role, token_hash, prefix, created_at, expires_at, apps) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        name,
        owner.userId,
        role,
        sha256(secret),
        secret.slice(0, 12),
        now,
        expiresAt,
        apps ? JSON.stringify(apps) : null,
      ],
    );
    return { secret, token: (await this.listTokens(owner, id))[0] };
  }

  async listTokens(who: Principal, onlyId?: string) {
    const where: string[] = [];
    const params: string[] = [];
    if (who.role !== 'admin') {
      where.push('t.user_id = ?');
      params.push(who.userId);
    }
    if (onlyId) {
      where.push('t.id = ?');
      params.push(onlyId);
    }
    const rows = await this.db.all<any>(
      `SELECT t.*, u.username FROM api_tokens t JOIN users u ON u.id = t.user_id
       ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY t.created_at DESC`,
      params,
    );
    const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return rows.map((t) => ({
      id: t.id,
      name: t.name,
      role: t.role as Role,
      prefix: t.prefix,
      username: t.username,
      apps: t.apps ? (JSON.parse(t.apps) as string[]) : null,
      createdAt: Number(t.created_at),
      expiresAt: n(t.expires_at),
      lastUsedAt: n(t.last_used_at),
      revokedAt: n(t.revoked_at),
    }));
  }

  async revokeToken(who: Principal, id: string) {
    const r = await this.db.run(
      `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL${who.role === 'admin' ? '' : ' AND user_id = ?'}`,
      who.role === 'admin' ? [Date.now(), id] : [Date.now(), id, who.userId],
    );
    if (r.changes === 0) throw notFound(`token ${id}`);
  }
}
export { publicUser };
