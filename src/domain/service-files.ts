/**
 * The files `grim install-service` puts on a control node: a systemd unit (Debian/Ubuntu) or, for OpenRC
 * (Alpine), the static init script scripts/control/grim.openrc, plus one settings file both read:
 * /etc/default/grim (systemd EnvironmentFile) or /etc/conf.d/grim (sourced by openrc-run). Values are
 * single-quoted, which both systemd and sh read literally; values that could break out of that are refused.
 */

export type ServiceKind = 'systemd' | 'openrc';

export interface ServiceSpec {
  kind: ServiceKind;
  /** Absolute path of the `grim` launcher the service runs. */
  grimBin: string;
  /** System user the server runs as. */
  user: string;
  /** Settings for `grim server` (GRIM_DATA_DIR, GRIM_LISTEN, GRIM_DATABASE_URL, ...). */
  env: Record<string, string>;
}

const USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const ENV_NAME = /^GRIM_[A-Z0-9_]+$/;

/** Every problem with a service spec (empty when it can be written). */
export function serviceSpecProblems(spec: ServiceSpec): string[] {
  const problems: string[] = [];
  if (spec.kind !== 'systemd' && spec.kind !== 'openrc')
    problems.push(`kind must be systemd or openrc, not ${JSON.stringify(spec.kind)}`);
  if (!spec.grimBin.startsWith('/'))
    problems.push(`the grim binary must be an absolute path: ${spec.grimBin}`);
  if (/[\s'"\\$`%]/.test(spec.grimBin))
    problems.push(`the grim binary path must not contain spaces, quotes, $, %, \` or \\: ${spec.grimBin}`);
  if (!USER.test(spec.user)) problems.push(`invalid user name ${JSON.stringify(spec.user)}`);
  for (const [name, value] of Object.entries(spec.env)) {
    if (!ENV_NAME.test(name)) problems.push(`${name}: only GRIM_* settings belong in the service file`);
    if (/['\n\r\\\0]/.test(value))
      problems.push(`${name}: the value must not contain a single quote, backslash or line break`);
  }
  const dataDir = spec.env.GRIM_DATA_DIR ?? '';
  if (!dataDir.startsWith('/') || /[\s%]/.test(dataDir))
    problems.push('GRIM_DATA_DIR must be an absolute path without spaces or %');
  return problems;
}

/** The settings file: KEY='value' lines, read literally by systemd's EnvironmentFile= and by sh. */
export function settingsFile(spec: ServiceSpec): string {
  const lines = [
    '# grim control plane settings (written by `grim install-service`; see `grim server --help`)',
    ...(spec.kind === 'openrc' ? [`GRIM_BIN='${spec.grimBin}'`, `GRIM_USER='${spec.user}'`] : []),
    ...Object.entries(spec.env)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}='${v}'`),
  ];
  return lines.join('\n') + '\n';
}

/** The systemd unit: logs go to the journal (SyslogIdentifier grim), restarts on failure, hardened. */
export function systemdUnit(spec: ServiceSpec, settingsPath = '/etc/default/grim'): string {
  const dataDir = spec.env.GRIM_DATA_DIR;
  return `[Unit]
Description=grim control plane
Documentation=https://github.com/grim/grim#readme
Wants=network-online.target
After=network-online.target postgresql.service

[Service]
Type=simple
User=${spec.user}
Group=${spec.user}
EnvironmentFile=${settingsPath}
ExecStart=${spec.grimBin} server
WorkingDirectory=${dataDir}
Restart=on-failure
RestartSec=5s
TimeoutStopSec=30s
StandardOutput=journal
StandardError=journal
SyslogIdentifier=grim
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=full
ProtectHome=read-only
ReadWritePaths=${dataDir}
UMask=0077

[Install]
WantedBy=multi-user.target
`;
}
