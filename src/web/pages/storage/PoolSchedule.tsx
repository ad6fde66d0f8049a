import { useState } from 'react';
import { call } from '../../api.ts';
import { useAction } from '../../use-query.ts';
import { ErrorMessage } from '../../components/ErrorMessage.tsx';
import { formatTime } from '../../format.ts';

export interface Schedule {
  target: string;
  kind: string;
  everySeconds: number;
  lastRunAt: number;
  nextRunAt: number;
  lastResult: string;
}

const interval = (s: number) =>
  s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : `${Math.round(s / 60)}m`;

/** A pool's scrub schedule: how often, the next run, the last result; the admin changes it here. */
export function PoolSchedule({
  node,
  pool,
  schedule,
  onSaved,
}: {
  node: string;
  pool: string;
  schedule: Schedule | undefined;
  onSaved: () => void;
}) {
  const [every, setEvery] = useState(schedule ? interval(schedule.everySeconds) : '30d');
  const [next, setNext] = useState('');
  const act = useAction();
  return (
    <div aria-label={`Scrub schedule of ${pool}`}>
      <p>
        Scheduled scrub:{' '}
        {schedule
          ? `every ${interval(schedule.everySeconds)}, next ${formatTime(schedule.nextRunAt)}${schedule.lastResult ? `; last: ${schedule.lastResult}` : ''}`
          : 'none'}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void act.run(async () => {
            await call('setScrubSchedule', {
              params: { node, pool },
              body: { every, ...(next ? { next } : {}) },
            });
            setNext('');
            onSaved();
          });
        }}
      >
        <label>
          Scrub every{' '}
          <input value={every} onChange={(e) => setEvery(e.target.value)} size={6} maxLength={16} required />
        </label>{' '}
        <label>
          next{' '}
          <input
            value={next}
            onChange={(e) => setNext(e.target.value)}
            placeholder="now or 2027-01-01T03:00Z"
            size={22}
            maxLength={40}
          />
        </label>{' '}
        <button type="submit" disabled={act.busy}>
          Save schedule
        </button>
      </form>
      <ErrorMessage error={act.error} title="The schedule was not changed." />
    </div>
  );
}
