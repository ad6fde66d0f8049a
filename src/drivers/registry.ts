/**
 * The runtime drivers grim knows, by kind. The `script` and `container` drivers are built in (both kept running
 * by the same node-side supervisor); the microVM drivers register themselves here (registerDriver). The rollout
 * engine and the reconciler only ever talk to a RuntimeDriver from this registry.
 */
import type { RuntimeDriver, RuntimeKind } from './driver.ts';
import { createSupervisedContainerDriver } from './container/supervised.ts';
import { ScriptDriver } from './script/script-driver.ts';

const drivers = new Map<RuntimeKind, RuntimeDriver>();

export function registerDriver(driver: RuntimeDriver): void {
  drivers.set(driver.kind, driver);
}

/** The driver for a kind, or an error that says which kinds are available. */
export function getDriver(kind: RuntimeKind): RuntimeDriver {
  const d = drivers.get(kind);
  if (!d)
    throw new Error(
      `no runtime driver "${kind}" is registered (available: ${[...drivers.keys()].join(', ') || 'none'})`,
    );
  return d;
}

export function hasDriver(kind: RuntimeKind): boolean {
  return drivers.has(kind);
}

export function registeredKinds(): RuntimeKind[] {
  return [...drivers.keys()];
}

registerDriver(new ScriptDriver());
registerDriver(createSupervisedContainerDriver());
