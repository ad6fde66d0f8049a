import { bytes } from './storage-types.ts';
import type { PlanOnNode } from './PoolWizard.tsx';

/** One node's plan: capacity, what may fail, the vdevs, warnings and the exact `zpool create`. */
export function PoolPlanView({ node, plan }: PlanOnNode) {
  return (
    <div className="plan" aria-label={`Pool plan on ${node}`}>
      <p>
        Usable capacity: <strong>{bytes(plan.usableBytes)}</strong> ({plan.usableBytes} bytes;{' '}
        {bytes(plan.rawBytes)} raw)
      </p>
      <p>May fail: {plan.faultTolerance.description}</p>
      <ul aria-label="Vdevs">
        {plan.vdevs.map((v, i) => (
          <li key={i}>
            {v.kind}: {v.disks.join(', ')}
          </li>
        ))}
      </ul>
      {plan.warnings.length > 0 && (
        <ul className="warnings" aria-label="Warnings">
          {plan.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <p>grim will run on {node}:</p>
      <pre className="command" aria-label={`Command on ${node}`}>
        {plan.commandLine}
      </pre>
    </div>
  );
}
