// A command to run on the node that hosts a microVM, as argv (never a shell string). The driver runs
// these over SSH with proper quoting; tests inspect them without running anything.
export interface HostCommand {
  /** What the step is for, shown to the admin before it runs. */
  description: string;
  argv: string[];
  /** True for cleanup steps whose target may already be gone (idempotent teardown). */
  ignoreFailure?: boolean;
}
