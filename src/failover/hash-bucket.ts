// RFC 3074 load balancing: which of the two partners answers a client in NORMAL state.
// The client's service transaction id (STID) is hashed to one of 256 buckets with Pearson hashing
// over the RFC's mixing table; a 256-bit hash-bucket-assignment (HBA, failover option 11) says who
// serves each bucket. Pure functions, no state. Spec §8.

/**
 * RFC 3074 §6 mixing table: a permutation of 0..255. The unit tests guard it with the SHA-256 given
 * in spec §8.2 (50015bcb…73a7) and check that it is a permutation.
 */
// biome-ignore format: 16 values a row keeps the table reviewable against RFC 3074
export const LOAD_BALANCE_MIXING_TABLE: Readonly<Uint8Array> = Uint8Array.of(
  251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232,
  31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57, 223,
  59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179, 197, 65,
  180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209, 23, 97, 16,
  40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67,
  207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77, 193, 200, 121, 5,
  20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245,
  230, 224, 43, 225, 177, 26, 155, 150, 212, 142, 218, 115, 241, 73, 88, 105,
  39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84,
  82, 163, 44, 139, 228, 236, 205, 242, 217, 11, 187, 146, 159, 64, 86, 239,
  195, 42, 106, 198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253,
  137, 185, 99, 164, 102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238,
  56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171, 72, 50,
  33, 104, 101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213,
  96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4,
  216, 131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151,
);

/** Number of hash buckets (RFC 3074 §5). */
export const BUCKET_COUNT = 256;
/** Size of the hash-bucket-assignment in bytes (failover option 11, D12 §12.11). */
export const HBA_LENGTH = 32;

/** A role in a failover relationship. */
export type FailoverRole = 'primary' | 'secondary';

/**
 * RFC 3074 §6 hash: start with the key length mod 256, then fold the key in from its last byte to
 * its first through the mixing table. Returns the bucket, 0..255.
 */
export function loadBalanceHash(key: Uint8Array): number {
  const table = LOAD_BALANCE_MIXING_TABLE;
  let hash = key.length & 0xff;
  for (let i = key.length - 1; i >= 0; i--) {
    hash = table[hash ^ key[i]!]!;
  }
  return hash;
}

/**
 * The bytes RFC 3074 hashes for a DHCP client (spec §8.1): the client-identifier (option 61) data if
 * present and non-empty, otherwise the first `hlen` bytes of `chaddr` (htype is not included).
 * `hlen` is clamped to the chaddr length (16 on the wire) so a lying hlen cannot read past it.
 */
export function clientHashKey(clientId: Uint8Array | null, chaddr: Uint8Array, hlen: number): Uint8Array {
  if (clientId !== null && clientId.length > 0) return clientId;
  const length = Math.max(0, Math.min(Math.trunc(hlen), chaddr.length));
  return chaddr.subarray(0, length);
}

/** Bucket of a DHCP client: `loadBalanceHash(clientHashKey(...))`. */
export function clientBucket(clientId: Uint8Array | null, chaddr: Uint8Array, hlen: number): number {
  return loadBalanceHash(clientHashKey(clientId, chaddr, hlen));
}

function assertBucket(bucket: number): void {
  if (!Number.isInteger(bucket) || bucket < 0 || bucket >= BUCKET_COUNT) {
    throw new RangeError(`hash bucket must be an integer 0..255, got ${bucket}`);
  }
}

function assertHba(hba: Uint8Array): void {
  if (hba.length !== HBA_LENGTH) throw new RangeError(`HBA must be ${HBA_LENGTH} bytes, got ${hba.length}`);
}

/**
 * HBA with buckets 0..n−1 set, as ISC's `split n` (spec §8.4): bucket b ↔ byte b >> 3, mask
 * 1 << (b & 7). `hbaFromSplit(128)` is 16×ff + 16×00.
 */
export function hbaFromSplit(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > BUCKET_COUNT) {
    throw new RangeError(`split must be an integer 0..256, got ${n}`);
  }
  const hba = new Uint8Array(HBA_LENGTH);
  for (let bucket = 0; bucket < n; bucket++) hba[bucket >> 3]! |= 1 << (bucket & 7);
  return hba;
}

/**
 * HBA for "the primary serves `primaryPercent` % of clients": the primary gets the
 * round(256 × p / 100) lowest buckets (spec §8.4). With `bitMeaning` 'primary' (ISC semantics, the
 * default) those buckets are the set bits; with 'secondary' (D12 text) the set bits are the
 * secondary's buckets, i.e. the complement.
 */
export function hbaFromPercent(primaryPercent: number, bitMeaning: FailoverRole = 'primary'): Uint8Array {
  if (!Number.isFinite(primaryPercent) || primaryPercent < 0 || primaryPercent > 100) {
    throw new RangeError(`primary percentage must be 0..100, got ${primaryPercent}`);
  }
  const hba = hbaFromSplit(Math.round((BUCKET_COUNT * primaryPercent) / 100));
  if (bitMeaning === 'secondary') for (let i = 0; i < HBA_LENGTH; i++) hba[i] = ~hba[i]! & 0xff;
  return hba;
}

/** Whether `bucket`'s bit is set in a 32-byte HBA. */
export function isBucketSet(hba: Uint8Array, bucket: number): boolean {
  assertHba(hba);
  assertBucket(bucket);
  return (hba[bucket >> 3]! & (1 << (bucket & 7))) !== 0;
}

/**
 * Whether the server in `role` serves `bucket` under `hba`. `bitMeaning` says whose buckets the set
 * bits are: 'primary' for ISC (and our default), 'secondary' for the D12 text (spec §8.4). Exactly one
 * of the two roles serves each bucket.
 */
export function serves(
  hba: Uint8Array,
  bucket: number,
  role: FailoverRole,
  bitMeaning: FailoverRole,
): boolean {
  return isBucketSet(hba, bucket) === (role === bitMeaning);
}

/** Number of buckets whose bit is set (e.g. 128 for `split 128`). */
export function countSetBuckets(hba: Uint8Array): number {
  assertHba(hba);
  let count = 0;
  for (const byte of hba) {
    let b = byte;
    while (b !== 0) {
      b &= b - 1;
      count++;
    }
  }
  return count;
}
