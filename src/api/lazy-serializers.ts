// Response serializers compiled when first needed, or in idle event-loop turns after the API
// listens, instead of all at once while the server starts (issue 15).
//
// Fastify compiles every route's response schemas (fast-json-stringify) when the app becomes ready:
// ~1.3 s of CPU for this API on the 2-core development machine, most of it re-validating the 20
// shared schemas for each of the ~150 route × status schemas. The API starts after the DHCP socket
// is bound and runs on the same thread, so that second and a half was a stall of every DHCP reply
// at start-up (with a million leases: the first OFFER came 1.5 s after the table was loaded).
// The serializers are Fastify's own, built by its default compiler with the same shared schemas:
// only when they are compiled changes, never what they write.

import Fastify, { type FastifySerializerCompiler } from 'fastify';
import type { TSchema } from 'typebox';

type RouteSchema = Parameters<FastifySerializerCompiler<unknown>>[0];
type Serialize = (data: unknown) => string;

/** What a warm-up did (LazySerializers.warmUp's onDone). */
export interface ApiWarmUpResult {
  /** From the warm-up's start to its end, waits included. */
  elapsedMs: number;
  /** Times it waited busyRetryMs because DHCP packets or API requests came. */
  waits: number;
  /** Serializers it compiled (the rest had been compiled by requests). */
  compiled: number;
  /** Warm-up requests answered. */
  requests: number;
}

export class LazySerializers {
  /** Routes' serializers not made yet: the schema's key and what makes it. */
  private readonly pending: Array<{ key: string; ensure: () => void }> = [];
  /**
   * Serializers by schema text: a schema that several routes and statuses answer with (the error
   * body of every 404, a lease list of two routes) is compiled once, not once per route × status.
   */
  private readonly bySchema = new Map<string, Serialize>();
  private isWarming = false;
  /** API requests seen (noteRequest): the warm-up waits while they come, as for DHCP packets. */
  private requests = 0;
  /** Warm-up requests answered (warmUp's requestsFirst). */
  private warmUpRequests = 0;

  private constructor(private readonly compile: FastifySerializerCompiler<unknown>) {}

  /**
   * Fastify's default serializer compiler with these shared schemas, taken from a throwaway app
   * (Fastify exposes a ready app's compiler as `serializerCompiler`; one tiny route makes it build
   * it). The API app must add exactly these schemas and no others.
   */
  static async forSharedSchemas(shared: readonly TSchema[]): Promise<LazySerializers> {
    const donor = Fastify({ logger: false });
    for (const s of shared) donor.addSchema(s);
    donor.get('/', { schema: { response: { 200: { type: 'null' } } } }, async () => null);
    await donor.ready();
    const compile = donor.serializerCompiler as FastifySerializerCompiler<unknown> | undefined;
    await donor.close();
    if (compile === undefined) throw new Error('api: Fastify built no serializer compiler');
    return new LazySerializers(compile);
  }

  /** A compiler for a route's `serializerCompiler`: each schema compiled at its first use. */
  readonly compiler: FastifySerializerCompiler<unknown> = (route: RouteSchema) => {
    let serialize: Serialize | null = null;
    // The default compiler reads nothing of the route but its schema (and the shared schemas).
    const key = JSON.stringify(route.schema);
    const ensure = (): Serialize => {
      if (serialize !== null) return serialize;
      serialize = this.bySchema.get(key) ?? null;
      if (serialize === null) {
        serialize = this.compile(route) as Serialize;
        this.bySchema.set(key, serialize);
      }
      return serialize;
    };
    this.pending.push({ key, ensure: () => void ensure() });
    return (data: unknown) => ensure()(data);
  };

  /**
   * Compiles what is still pending, one schema per event-loop turn (setImmediate), so DHCP
   * packets that arrive meanwhile wait for one compilation at most, not for all of them — and only
   * while `dhcpActivity` and the API requests (noteRequest) stand still: a compilation takes
   * 5-50 ms of the thread that answers DHCP and the API, so while clients are being served (the
   * count moved since the last look) the warm-up waits `busyRetryMs` and looks again. Measured at 4000 DORA/s right after start (bench/direct.sh):
   * warming under load raised REQUEST→ACK p99 from 8 to 82 ms. Under steady load the warm-up
   * never runs and each route compiles at its first request, as without it.
   *
   * `requestsFirst` run before the schemas, one per idle turn, each awaited: requests the app
   * answers to itself (Fastify `inject`) so that a route's first real request finds its serializer
   * compiled and its code paths already run (at 1M leases the first page of 1000 leases took 3× a
   * later one: issue 15). Their own API request does not count as activity; one that fails is
   * skipped. `onDone` is told when it ends: how long it took from this call and how often it waited.
   */
  warmUp(
    dhcpActivity: () => number = () => 0,
    busyRetryMs = 500,
    requestsFirst: ReadonlyArray<() => Promise<unknown>> = [],
    onDone: (result: ApiWarmUpResult) => void = () => {},
  ): void {
    if (this.isWarming) return;
    this.isWarming = true;
    const startedAt = performance.now();
    let waits = 0;
    let compiled = 0;
    const activity = () => dhcpActivity() + this.requests;
    const requests = [...requestsFirst];
    let seen = activity();
    const step = () => {
      const now = activity();
      if (now !== seen) {
        seen = now;
        waits++;
        setTimeout(step, busyRetryMs).unref();
        return;
      }
      const request = requests.shift();
      if (request !== undefined) {
        const done = () => {
          // The request's own onRequest counted once; what came meanwhile counts as activity.
          this.requests--;
          this.warmUpRequests++;
          setImmediate(step).unref();
        };
        request().then(done, done);
        return;
      }
      // Schemas compiled already (for another route) cost nothing: taken in this turn.
      let next = this.pending.shift();
      while (next !== undefined && this.bySchema.has(next.key)) {
        next.ensure();
        next = this.pending.shift();
      }
      if (next === undefined) {
        this.isWarming = false;
        onDone({ elapsedMs: performance.now() - startedAt, waits, compiled, requests: this.warmUpRequests });
        return;
      }
      next.ensure();
      compiled++;
      setImmediate(step).unref();
    };
    setImmediate(step).unref();
  }

  /**
   * An API request arrived. The warm-up also waits while requests come: a request that arrives
   * during it waits for one compilation in each event-loop turn it takes (reading, answering,
   * writing), which made the first lease pages after start several times slower.
   */
  noteRequest(): void {
    this.requests++;
  }

  /** Schemas not compiled by warmUp yet (tests). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Warm-up requests (warmUp's requestsFirst) answered so far (tests). */
  get warmUpRequestCount(): number {
    return this.warmUpRequests;
  }

  /** Serializers compiled so far, one per distinct schema (tests). */
  get compiledCount(): number {
    return this.bySchema.size;
  }
}
