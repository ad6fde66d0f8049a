#!/usr/bin/env node
import './server-memory.ts';
import { Command } from 'commander';
import { registerServerCommand } from './commands/server.ts';
import { registerAuthCommands } from './commands/auth.ts';
import { registerTokenCommands } from './commands/tokens.ts';
import { registerUserCommands } from './commands/users.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerNodeCommands } from './commands/nodes.ts';
import { registerAppTopCommand, registerTopCommands } from './commands/top.ts';
import { registerJobCommands } from './commands/jobs.ts';
import { registerAppCommands } from './commands/apps.ts';
import { registerVolumeCommands } from './commands/volumes.ts';
import { registerLabCommands } from './commands/lab.ts';
import { registerStorageCommands } from './commands/storage.ts';
import { registerPipelineCommands } from './commands/pipelines.ts';
import { registerSeaweedCommands } from './commands/seaweedfs.ts';
import { registerLabNodes } from './lab-register.ts';
import { reportError } from './output.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerBackupCommands } from './commands/backup.ts';
import { registerSshCommands } from './commands/ssh.ts';
import { registerMonitoringCommands } from './commands/monitoring.ts';
import { registerInstallCommands } from './commands/install.ts';
import { registerMasterKeyCommands } from './commands/master-key.ts';
import { GRIM_VERSION } from '../server/version.ts';
import { registerIpPoolCommands } from './commands/ip-pools.ts';

const program = new Command()
  .name('grim')
  .description('grim: run servers and apps over plain SSH')
  .version(GRIM_VERSION)
  .showHelpAfterError()
  .exitOverride();

let exitCode = 0;
registerServerCommand(program);
registerAuthCommands(program);
registerTokenCommands(program);
registerUserCommands(program);
registerAuditCommands(program, (c) => (exitCode = c));
registerNodeCommands(program, (c) => (exitCode = c));
registerTopCommands(program); // adds `node top` to the group above
registerJobCommands(program);
registerAppCommands(program);
registerAppTopCommand(program); // adds `app top` to the group above
registerVolumeCommands(program);
registerLabCommands(program, { registerNodes: registerLabNodes });
registerStorageCommands(program);
registerSeaweedCommands(program);
registerStatusCommand(program);
registerBackupCommands(program, (c) => (exitCode = c));
registerPipelineCommands(program);
registerSshCommands(program);
registerMonitoringCommands(program);
registerInstallCommands(program);
registerMasterKeyCommands(program);
registerIpPoolCommands(program);

try {
  await program.parseAsync(process.argv);
  if (exitCode) process.exitCode = exitCode;
} catch (err) {
  const e = err as { code?: string; exitCode?: number };
  if (e.code?.startsWith('commander.')) process.exitCode = e.exitCode ?? 1;
  else process.exitCode = reportError(err);
}
