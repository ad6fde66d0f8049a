// grim's alert rules checked and unit-tested by the real promtool (Debian's prometheus package): every rule is
// valid, fires on synthetic series that show the problem (after its `for`), and stays quiet on healthy ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { alertRules, alertRulesYaml } from '../../src/integrations/alerting/rules.ts';

const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

interface Case {
  series: { series: string; values: string }[];
  at: string;
  alert: string;
  fires: Record<string, string>[];
}

const cases: Case[] = [
  {
    series: [
      { series: 'grim_node_up{env="prod",group="web",node="n1"}', values: '1 1 0 0 0 0 0 0' },
      { series: 'grim_node_up{env="prod",group="web",node="n2"}', values: '1x8' },
    ],
    at: '7m',
    alert: 'GrimNodeUnreachable',
    fires: [{ env: 'prod', group: 'web', node: 'n1', severity: 'critical' }],
  },
  {
    series: [{ series: 'grim_node_up{env="prod",node="n1"}', values: '1 1 0 0' }],
    at: '3m',
    alert: 'GrimNodeUnreachable',
    fires: [], // unreachable for 1 minute only: within `for: 2m`
  },
  {
    series: [
      { series: 'grim_zpool_health{node="s1",pool="tank",state="DEGRADED"}', values: '0 0 1 1 1' },
      { series: 'grim_zpool_health{node="s1",pool="tank",state="ONLINE"}', values: '1 1 0 0 0' },
    ],
    at: '4m',
    alert: 'GrimZpoolDegraded',
    fires: [{ node: 's1', pool: 'tank', state: 'DEGRADED', severity: 'warning' }],
  },
  {
    series: [{ series: 'grim_zpool_health{node="s1",pool="tank",state="FAULTED"}', values: '0 1' }],
    at: '1m',
    alert: 'GrimZpoolFaulted',
    fires: [{ node: 's1', pool: 'tank', state: 'FAULTED', severity: 'critical' }],
  },
  {
    series: [
      { series: 'grim_zpool_capacity_ratio{node="s1",pool="tank"}', values: '0.86x20' },
      { series: 'grim_zpool_capacity_ratio{node="s2",pool="tank"}', values: '0.84x20' },
    ],
    at: '15m',
    alert: 'GrimZpoolFull',
    fires: [{ node: 's1', pool: 'tank', severity: 'warning' }],
  },
  {
    series: [
      { series: 'grim_disk_smart_passed{node="s1",disk="/dev/sda"}', values: '1 0' },
      { series: 'grim_disk_smart_passed{node="s1",disk="/dev/sdb"}', values: '1 1' },
    ],
    at: '1m',
    alert: 'GrimSmartFailure',
    fires: [{ node: 's1', disk: '/dev/sda', severity: 'critical' }],
  },
  {
    series: [
      { series: 'SeaweedFS_master_is_leader{job="seaweedfs",instance="m1:9324"}', values: '1 0 0 0' },
      { series: 'SeaweedFS_master_is_leader{job="seaweedfs",instance="m2:9324"}', values: '0 0 0 0' },
    ],
    at: '3m',
    alert: 'SeaweedFSNoLeader',
    fires: [{ job: 'seaweedfs', severity: 'critical' }],
  },
  {
    series: [
      { series: 'SeaweedFS_master_is_leader{job="seaweedfs",instance="m1:9324"}', values: '1 0 0 0' },
      { series: 'SeaweedFS_master_is_leader{job="seaweedfs",instance="m2:9324"}', values: '0 1 1 1' },
    ],
    at: '3m',
    alert: 'SeaweedFSNoLeader',
    fires: [], // leadership moved: fine
  },
  {
    series: [
      {
        series:
          'SeaweedFS_master_volume_layout_writable{job="seaweedfs",collection="",disk="hdd",rp="001",ttl=""}',
        values: '3 0x10',
      },
    ],
    at: '8m',
    alert: 'SeaweedFSNoWritableVolumes',
    fires: [{ job: 'seaweedfs', severity: 'critical' }],
  },
  {
    series: [
      {
        series:
          'SeaweedFS_master_under_replicated_volumes{job="seaweedfs",collection="",disk="hdd",rp="001",ttl=""}',
        values: '2x30',
      },
    ],
    at: '20m',
    alert: 'SeaweedFSUnderReplicated',
    fires: [{ job: 'seaweedfs', severity: 'warning' }],
  },
  {
    // daily backups: db's last good one is 2 days + 10 min old and growing, web's is 1 hour old
    series: [
      {
        series:
          'grim_volume_last_backup_age_seconds{environment="prod",app="db",volume="data",backed_up="yes"}',
        values: '172800+60x20',
      },
      {
        series: 'grim_volume_backup_interval_seconds{environment="prod",app="db",volume="data"}',
        values: '86400x20',
      },
      {
        series:
          'grim_volume_last_backup_age_seconds{environment="prod",app="web",volume="www",backed_up="yes"}',
        values: '3600x20',
      },
      {
        series: 'grim_volume_backup_interval_seconds{environment="prod",app="web",volume="www"}',
        values: '86400x20',
      },
      // no schedule: no backups wanted, no alert
      {
        series:
          'grim_volume_last_backup_age_seconds{environment="prod",app="tmp",volume="cache",backed_up="never"}',
        values: '999999x20',
      },
    ],
    at: '10m',
    alert: 'GrimBackupTooOld',
    fires: [{ environment: 'prod', app: 'db', volume: 'data', severity: 'critical' }],
  },
  {
    series: [
      { series: 'grim_app_instances{env="prod",app="shop",state="lost"}', values: '0 1 1 1' },
      { series: 'grim_app_instances{env="prod",app="shop",state="running"}', values: '3 2 2 2' },
    ],
    at: '3m',
    alert: 'GrimAppInstanceLost',
    fires: [{ env: 'prod', app: 'shop', state: 'lost', severity: 'critical' }],
  },
  {
    // expires at 10 days after the epoch: from t=0 it is always less than 14 days away
    series: [
      {
        series: 'grim_tls_certificate_expiry_timestamp_seconds{path="/tls/server.crt"}',
        values: '864000x120',
      },
    ],
    at: '90m',
    alert: 'GrimTlsCertificateExpiring',
    fires: [{ path: '/tls/server.crt', severity: 'warning' }],
  },
  {
    // web's last build failed; api's failed once and the next one passed
    series: [
      { series: 'grim_pipeline_last_build_failed{pipeline="web"}', values: '0 0 1 1' },
      { series: 'grim_pipeline_last_build_failed{pipeline="api"}', values: '0 1 0 0' },
    ],
    at: '3m',
    alert: 'GrimPipelineBuildFailed',
    fires: [{ pipeline: 'web', severity: 'warning' }],
  },
];

test(
  'every shipped rule passes promtool check rules',
  { skip: hasPromtool ? false : 'promtool not installed' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'grim-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), alertRulesYaml());
      const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /SUCCESS: 12 rules found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'promtool test rules: each alert fires on its problem and not on healthy series',
  { skip: hasPromtool ? false : 'promtool not installed' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'grim-rules-'));
    try {
      // Expressions, `for` and labels are under test here; the annotation templates are checked by `check rules`
      // above, and left out so the expected alerts need not repeat rendered text.
      const groups = alertRules().groups.map((g) => ({
        name: g.name,
        rules: g.rules.map((r) => ({ alert: r.alert, expr: r.expr, for: r.for, labels: r.labels })),
      }));
      writeFileSync(join(dir, 'rules.yml'), stringify({ groups }));
      const rules = groups.flatMap((g) => g.rules);
      const tested = new Set(cases.map((c) => c.alert));
      assert.deepEqual(
        rules.map((r) => r.alert).filter((a) => !tested.has(a)),
        [],
        'every rule has a case',
      );
      const tests = cases.map((c) => ({
        interval: '1m',
        input_series: c.series,
        alert_rule_test: [
          {
            eval_time: c.at,
            alertname: c.alert,
            exp_alerts: c.fires.map((labels) => ({ exp_labels: labels })),
          },
        ],
      }));
      writeFileSync(
        join(dir, 'tests.yml'),
        stringify({ rule_files: ['rules.yml'], evaluation_interval: '1m', tests }),
      );
      const r = spawnSync('promtool', ['test', 'rules', 'tests.yml'], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /SUCCESS/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
