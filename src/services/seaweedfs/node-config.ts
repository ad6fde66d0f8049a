/**
 * What a node of a storage cluster gets in /etc/seaweedfs (only what its own services need): certificate,
 * security.toml, master.toml, filer.toml (leveldb2, or postgres2 in the cluster's schema), the S3 identities,
 * options files, and the volume server's dataset quota.
 */
import { optionsFile, type ClusterPlan, type ClusterSpec } from '../../domain/seaweedfs/cluster.ts';
import { filerToml, masterToml, s3Identities, securityToml } from '../../domain/seaweedfs/config-files.ts';
import { seaweedRepo } from '../../store/seaweedfs-repo.ts';
import { filerSchemaName } from '../../store/seaweedfs-filer-schema.ts';
import type { NodeCert } from './ca.ts';
import { KEY_CONTEXT, type ClusterSecrets, type SeaweedDeps } from './seaweed-service.ts';

export function nodeConfigFiles(p: {
  environment: string;
  node: string;
  plan: ClusterPlan;
  spec: ClusterSpec;
  secrets: ClusterSecrets;
  cert: NodeCert;
  s3Json?: string;
}): Record<string, string> {
  const mine = p.plan.services.filter((s) => s.node === p.node);
  const has = (r: string) => mine.some((s) => s.role === r);
  const files: Record<string, string> = {
    CA_CRT: p.cert.ca,
    NODE_CRT: p.cert.cert,
    NODE_KEY: p.cert.key,
    SECURITY_TOML: securityToml({ jwt: p.secrets.jwt }),
  };
  if (p.s3Json) files.S3_JSON = p.s3Json;
  if (has('master')) files.MASTER_TOML = masterToml();
  if (has('filer'))
    files.FILER_TOML = filerToml(
      p.spec.filerStore === 'postgres' && p.secrets.postgres
        ? { kind: 'postgres', schema: filerSchemaName(p.environment), ...p.secrets.postgres }
        : { kind: 'leveldb2' },
    );
  for (const s of mine) files[`OPTIONS_${s.role.toUpperCase()}`] = optionsFile(s.options);
  if (has('volume') && p.spec.volumeQuotaMB)
    files.VOLUME_QUOTA_BYTES = String(p.spec.volumeQuotaMB * 2 ** 20);
  return files;
}

/** The S3 gateways' identities file: grim's admin identity and every key, each limited to its bucket. */
export async function s3JsonOf(
  d: SeaweedDeps,
  environment: string,
  secrets: ClusterSecrets,
): Promise<string> {
  const keys = await seaweedRepo.keys(d.db, environment);
  return s3Identities(
    secrets.admin,
    keys.map((k) => ({
      name: k.name,
      accessKey: k.access_key,
      secretKey: d.box.open(k.secret, KEY_CONTEXT(environment, k.access_key)).toString('utf8'),
      bucket: k.bucket,
      actions: JSON.parse(k.actions),
      active: k.status === 'active',
    })),
  );
}
