// Fraud-demo transactions put on a Kinesis stream, as a producer outside Sluice would write
// them: one JSON object per record, partition key the customer id.
import { generateTransactions } from '../../src/apps/fraud/generator.js';
import type { Kinesalite } from './kinesalite.js';

/** Puts the first `n` transactions of the simulation (seeded) on `stream`, 500 per PutRecords; returns them. */
export async function putTransactions(
  k: Kinesalite,
  stream: string,
  n: number,
  opts: { seed?: number; customers?: number; terminals?: number } = {},
): Promise<number> {
  const txs = generateTransactions(n, opts);
  for (let i = 0; i < txs.length; i += 500) {
    const Records = txs.slice(i, i + 500).map((tx) => ({
      Data: Buffer.from(JSON.stringify(tx)),
      PartitionKey: String(tx.customerId),
    }));
    const r = await k.client.send(new k.sdk.PutRecordsCommand({ StreamName: stream, Records }));
    if (r.FailedRecordCount) throw new Error(`PutRecords: ${r.FailedRecordCount} failed`);
  }
  return txs.length;
}
