// Byte arrays of a packet's life (a decoded request's file field, a reply's bytes) carved out of
// shared slabs (issue 17). V8 gives a Uint8Array of more than 64 bytes a backing store of its own
// outside the heap (allocated, zeroed, then tracked and freed by the GC): ~1.0 µs for 128 bytes
// and ~1.6 µs for 290 here, against ~0.35 / 0.45 µs for a view on a slab filled the same way;
// a DORA made six of them. Node's Buffer pool does the same for Buffers; these stay plain
// Uint8Arrays. A slab is freed once no view of it remains, so a view kept for long keeps its
// slab (SLAB_BYTES) alive: meant for what lives as long as a packet, not for what is stored.
// Every view is a region no other view has had: fresh, zero until written.

/** Size of one slab. */
const SLAB_BYTES = 32 * 1024;
/** Up to this size V8 keeps a Uint8Array's bytes in its heap, which is cheap already. */
const MAX_ON_HEAP_BYTES = 64;
/** Larger arrays get their own backing store, as before (a slab would hold few). */
const MAX_SLAB_ARRAY_BYTES = 4 * 1024;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** A zero-filled Uint8Array of `length` bytes that shares memory with no other live array. */
export function newBytes(length: number): Uint8Array {
  if (length <= MAX_ON_HEAP_BYTES || length > MAX_SLAB_ARRAY_BYTES) return new Uint8Array(length);
  if (used + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, length);
  used += (length + 7) & ~7; // 8-byte aligned, as the allocator's would be
  return out;
}

/** A copy of `src[start, end)` in a new array (newBytes). */
export function copyBytes(src: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  if (length <= MAX_ON_HEAP_BYTES) return src.slice(start, end);
  const out = newBytes(length);
  out.set(src.subarray(start, end));
  return out;
}
