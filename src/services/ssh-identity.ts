import type { Db } from '../store/db.ts';
import { generateStoredKeyPair, unsealPrivateKey, type StoredKeyPair } from '../ssh/index.ts';
import { openSecretBox } from '../secrets/secret-box.ts';

/**
 * grim's own ed25519 key pair, generated at first start. The private key is stored sealed with the
 * master key, which lives outside the database (<dataDir>/secrets/master.key or GRIM_MASTER_KEY).
 */
export async function loadSshIdentity(
  db: Db,
  dataDir: string,
): Promise<{ publicKey: string; fingerprint: string; privateKey: string }> {
  const box = openSecretBox(dataDir);
  let row = await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'ssh_identity'");
  if (!row) {
    const fresh = generateStoredKeyPair(box);
    await db.run(
      "INSERT INTO settings (key, value) VALUES ('ssh_identity', ?) ON CONFLICT (key) DO NOTHING",
      [JSON.stringify(fresh)],
    );
    row = await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'ssh_identity'");
  }
  const stored = JSON.parse(row!.value) as StoredKeyPair;
  return {
    publicKey: stored.publicKey,
    fingerprint: stored.fingerprint,
    privateKey: unsealPrivateKey(box, stored),
  };
}
