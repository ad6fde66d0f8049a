// The SSH layer's public surface.

export { ChannelLostError, ChannelOpenError } from './channel-exec.ts';
export type { ExecOptions, ExecResult, OutputStream } from './channel-exec.ts';
export { prepareCommand } from './command.ts';
export type { ArgvCommand, RemoteCommand, ScriptCommand } from './command.ts';
export { scanHostKey } from './connect.ts';
export type { ScannedHostKey, SshAuth } from './connect.ts';
export { ConnectError, HostKeyMismatchError, InvalidCommandError, RemoteCommandError } from './errors.ts';
export {
  connectWithPassword,
  connectWithPrivateKey,
  installPublicKey,
  runScriptOnce,
} from './install-key.ts';
export * from './keys.ts';
export { SshPool } from './pool.ts';
export type { ShellOptions, SshPoolOptions, SshPoolStats, SshTarget } from './pool.ts';
export { envAssignments, isEnvName, quoteArgv, shellQuote } from './quote.ts';
export { assertSucceeded, runScript } from './run-script.ts';
export { uploadFile, type UploadOptions } from './upload.ts';
