import type { Db } from '../store/db.ts';
import type { AuditLog } from '../services/audit.ts';
import type { AuthService } from '../services/auth.ts';
import type { ServerConfig } from './config.ts';

/** Everything a handler may call. Handlers stay thin: they translate, the services act. */
export interface Services {
  config: ServerConfig;
  db: Db;
  audit: AuditLog;
  auth: AuthService;
}
