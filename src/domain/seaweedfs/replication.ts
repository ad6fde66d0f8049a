/**
 * SeaweedFS replication strings "xyz": x extra copies in other data centers, y extra copies on other racks of
 * the same data center, z extra copies on other servers of the same rack. Each object is stored 1+x+y+z times.
 */

export function replicationProblems(r: string): string[] {
  if (typeof r !== 'string' || !/^[0-9]{3}$/.test(r)) return ['must be three digits, e.g. 000, 001, 010'];
  const p: string[] = [];
  if ([...r].some((d) => Number(d) > 2)) p.push('each digit must be 0, 1 or 2');
  return p;
}

export function copiesOf(r: string): number {
  return 1 + [...r].reduce((s, d) => s + Number(d), 0);
}

const ONE_SENTENCE: Record<string, string> = {
  '000':
    'one copy only: losing the volume server (or its disk) loses the data; fine on ZFS redundancy or for scratch data.',
  '001': 'two copies on two servers of the same rack: survives losing one server, not the rack.',
  '002': 'three copies on three servers of the same rack: survives losing two servers, not the rack.',
  '010': 'two copies in two racks of the same data center: survives losing a whole rack.',
  '020': 'three copies in three racks of the same data center: survives losing two racks.',
  '100': 'two copies in two data centers: survives losing a data center (writes wait for the remote copy).',
  '200': 'three copies in three data centers: survives losing two data centers.',
  '011': 'three copies: two servers in one rack and one in another rack of the same data center.',
  '110': 'three copies: another rack and another data center.',
};

/** One sentence saying what a replication string means. */
export function explainReplication(r: string): string {
  if (replicationProblems(r).length) return 'invalid replication';
  const [dc, rack, server] = [...r].map(Number);
  return (
    ONE_SENTENCE[r] ??
    `${copiesOf(r)} copies: ${server} more on other servers of the same rack, ${rack} more on other racks, ${dc} more in other data centers.`
  );
}

/** The common choices, for the API and the UI. */
export const REPLICATION_CHOICES = ['000', '001', '010', '100', '002', '011'].map((r) => ({
  replication: r,
  copies: copiesOf(r),
  explanation: explainReplication(r),
}));
