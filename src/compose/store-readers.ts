/** What commands that only look read from a deployment's store, without joining it as a worker. */
import { dataDirHolder } from "../drivers/local/data-dir-lock.ts";
import { FileRunStore } from "../drivers/local/file-run-store.ts";
import type { ChainHead } from "../ports/run-store.ts";

export interface ChainSource {
  redisUrl?: string;
  redisPrefix?: string;
  dataDir: string;
}

/**
 * The audit chain heads as the store of this deployment has them (Redis when REDIS_URL is set,
 * else DATA_DIR): what `sop audit verify` checks the files against, so that records removed from
 * the end of a chain are noticed.
 */
export async function readChainHeads(source: ChainSource): Promise<Map<string, ChainHead>> {
  if (source.redisUrl) {
    // Imported here only: BullMQ and ioredis are heavy for a command on the local driver.
    const { openRedisStore } = await import("../drivers/redis/index.ts");
    const { store, close } = await openRedisStore({ url: source.redisUrl, ...(source.redisPrefix ? { prefix: source.redisPrefix } : {}) });
    try {
      return await store.chainHeads();
    } finally {
      await close();
    }
  }
  // Read-only: another process may hold DATA_DIR; every file there is replaced whole by a rename.
  const store = await FileRunStore.open(source.dataDir, { readOnly: true });
  try {
    return await store.chainHeads();
  } finally {
    await store.close();
  }
}

/** Whether a live process holds DATA_DIR: without one, nothing runs what the local store says is running. */
export async function dataDirInUse(dataDir: string): Promise<boolean> {
  return (await dataDirHolder(dataDir)) !== undefined;
}
