import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  escapeHelp,
  escapeLabelValue,
  formatValue,
  renderExposition,
} from '../../src/integrations/prometheus/exposition.ts';
import type { LabelledPoints } from '../../src/integrations/prometheus/names.ts';

const entities: LabelledPoints[] = [
  {
    kind: 'node',
    labels: { env: 'prod', group: 'web "edge"', node: 'n1' },
    points: [
      { metric: 'load1', dim: '', value: 0.5 },
      { metric: 'fs_used_bytes', dim: 'C:\\data\nnew', value: 1024 },
      { metric: 'cpu_busy_pct', dim: '', value: 12.5 },
    ],
  },
  {
    kind: 'node',
    labels: { env: 'prod', group: 'web "edge"', node: 'n2' },
    points: [{ metric: 'load1', dim: '', value: 1.25 }],
  },
  {
    kind: 'instance',
    labels: { env: 'prod', group: 'web "edge"', node: 'n1', app: 'shop', instance: 'shop-1' },
    points: [
      { metric: 'instance_cpu_millicores', dim: '', value: 250 },
      { metric: 'load1', dim: '', value: 99 }, // node metric on an instance: not exposed
    ],
  },
];

test('label values escape backslash, double quote and newline; HELP escapes backslash and newline', () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  assert.equal(escapeHelp('a\\b"c\nd'), 'a\\\\b"c\\nd');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(1e21), '1e+21');
});

test('renderExposition emits one family per metric with HELP/TYPE and stable labels', () => {
  const text = renderExposition(entities);
  assert.equal(
    text,
    [
      '# HELP grim_node_cpu_busy_percent CPU busy time, all cores (0-100).',
      '# TYPE grim_node_cpu_busy_percent gauge',
      'grim_node_cpu_busy_percent{env="prod",group="web \\"edge\\"",node="n1"} 12.5',
      '# HELP grim_node_load1 Load average over 1 minute.',
      '# TYPE grim_node_load1 gauge',
      'grim_node_load1{env="prod",group="web \\"edge\\"",node="n1"} 0.5',
      'grim_node_load1{env="prod",group="web \\"edge\\"",node="n2"} 1.25',
      '# HELP grim_node_filesystem_used_bytes Filesystem space used.',
      '# TYPE grim_node_filesystem_used_bytes gauge',
      'grim_node_filesystem_used_bytes{env="prod",group="web \\"edge\\"",node="n1",mountpoint="C:\\\\data\\nnew"} 1024',
      '# HELP grim_instance_cpu_millicores Instance CPU use (1000 = one core).',
      '# TYPE grim_instance_cpu_millicores gauge',
      'grim_instance_cpu_millicores{env="prod",group="web \\"edge\\"",node="n1",app="shop",instance="shop-1"} 250',
      '',
    ].join('\n'),
  );
  assert.equal(renderExposition([]), '');
});

test('promtool accepts the exposition (parse + lint)', (t) => {
  const r = spawnSync('promtool', ['check', 'metrics'], {
    input: renderExposition(entities),
    encoding: 'utf8',
  });
  if (r.error) return t.skip('promtool not installed (Debian package prometheus)');
  assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
});
