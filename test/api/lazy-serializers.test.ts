// The API's response serializers are compiled at first use or by warmUp after listening, not while
// the app starts (issue 15: compiling them all held up DHCP replies for 1.3 s at start-up), and
// they write exactly what Fastify's default compiler writes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { type ApiWarmUpResult, LazySerializers } from '../../src/api/lazy-serializers.js';
import { ErrorBody, ref, SHARED_SCHEMAS } from '../../src/api/schemas.js';

const BODY = { error: 'not-found', message: 'no such lease', secret: 'not in the schema' };

async function appWith(compiler: LazySerializers['compiler'] | null) {
  const app = Fastify({ logger: false });
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  app.get(
    '/e',
    {
      schema: { response: { 200: ref(ErrorBody), 404: ref(ErrorBody) } },
      ...(compiler === null ? {} : { serializerCompiler: compiler }),
    },
    async () => BODY,
  );
  await app.ready();
  return app;
}

test('nothing is compiled while the app starts; the first response compiles its own schema', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const app = await appWith(lazy.compiler);
  // GET and the HEAD route Fastify adds for it, each with a 200 and a 404 schema.
  assert.equal(lazy.pendingCount, 4, 'four response schemas registered, none compiled yet');
  const res = await app.inject({ method: 'GET', url: '/e' });
  assert.equal(res.statusCode, 200);
  // Fastify's serializer, not JSON.stringify: what the schema does not name is not written.
  assert.deepEqual(JSON.parse(res.body), { error: 'not-found', message: 'no such lease' });
  await app.close();
});

test('the bytes are those of Fastify compiling the schemas itself', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const eager = await appWith(null);
  const deferred = await appWith(lazy.compiler);
  const a = await eager.inject({ method: 'GET', url: '/e' });
  const b = await deferred.inject({ method: 'GET', url: '/e' });
  assert.equal(b.body, a.body);
  await eager.close();
  await deferred.close();
});

test('warmUp compiles what is pending, one schema per event-loop turn', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const app = await appWith(lazy.compiler);
  lazy.warmUp();
  assert.equal(lazy.pendingCount, 4, 'nothing compiled in the calling turn');
  await new Promise((r) => setImmediate(r));
  assert.equal(lazy.pendingCount, 3, 'one per turn');
  for (let turns = 0; lazy.pendingCount > 0 && turns < 100; turns++)
    await new Promise((r) => setImmediate(r));
  assert.equal(lazy.pendingCount, 0);
  const res = await app.inject({ method: 'GET', url: '/e' });
  assert.deepEqual(JSON.parse(res.body), { error: 'not-found', message: 'no such lease' });
  await app.close();
});

test('warmUp compiles nothing while DHCP packets keep arriving, and goes on once they stop', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const app = await appWith(lazy.compiler);
  let received = 0;
  const done: ApiWarmUpResult[] = [];
  lazy.warmUp(
    () => received,
    20,
    [],
    (r) => done.push(r),
  );
  const turn = () => new Promise((r) => setImmediate(r));
  for (let i = 0; i < 10; i++) {
    received++;
    await turn();
  }
  assert.equal(lazy.pendingCount, 4, 'a packet each turn: nothing compiled');
  // The next look (after 20 ms) still sees the last packets; the one after finds it quiet.
  const deadline = Date.now() + 2000;
  while (lazy.pendingCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(lazy.pendingCount, 0, 'compiled once the counter stood still');
  await new Promise((r) => setImmediate(r));
  assert.equal(done.length, 1, 'told once, when it ended');
  assert.ok(done[0]!.compiled > 0);
  assert.equal(done[0]!.compiled, lazy.compiledCount, 'no request compiled one: all by the warm-up');
  assert.equal(done[0]!.requests, 0);
  assert.ok(done[0]!.waits >= 2, `it waited for the packets (${done[0]!.waits} waits)`);
  assert.ok(done[0]!.elapsedMs >= 40, 'two waits of 20 ms at least');
  await app.close();
});

test('a schema that several routes and statuses answer with is compiled once, with the same bytes', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const app = Fastify({ logger: false });
  for (const s of SHARED_SCHEMAS) app.addSchema(s);
  for (const url of ['/a', '/b'])
    app.get(
      url,
      {
        schema: { response: { 200: ref(ErrorBody), 404: ref(ErrorBody) } },
        serializerCompiler: lazy.compiler,
      },
      async () => BODY,
    );
  await app.ready();
  const a = await app.inject({ method: 'GET', url: '/a' });
  const b = await app.inject({ method: 'GET', url: '/b' });
  assert.equal(b.body, a.body);
  assert.deepEqual(JSON.parse(a.body), { error: 'not-found', message: 'no such lease' });
  assert.equal(lazy.compiledCount, 1, 'one schema, one compilation (it was one per route and status)');
  lazy.warmUp();
  for (let turns = 0; lazy.pendingCount > 0 && turns < 100; turns++)
    await new Promise((r) => setImmediate(r));
  assert.equal(lazy.compiledCount, 1);
  await app.close();
});

test('warmUp compiles nothing while API requests keep arriving, and goes on once they stop', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const app = await appWith(lazy.compiler);
  lazy.warmUp(() => 0, 20);
  const turn = () => new Promise((r) => setImmediate(r));
  for (let i = 0; i < 10; i++) {
    lazy.noteRequest();
    await turn();
  }
  assert.equal(lazy.pendingCount, 4, 'a request each turn: nothing compiled');
  const deadline = Date.now() + 2000;
  while (lazy.pendingCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(lazy.pendingCount, 0, 'compiled once the requests stopped');
  await app.close();
});

test('warmUp answers its requests first, one per idle turn, then compiles the rest', async () => {
  const lazy = await LazySerializers.forSharedSchemas(SHARED_SCHEMAS);
  const app = await appWith(lazy.compiler);
  // As the API's onRequest hook does for every request, these included.
  const get = () => {
    lazy.noteRequest();
    return app.inject({ method: 'GET', url: '/e' });
  };
  lazy.warmUp(() => 0, 20, [get, get]);
  assert.equal(lazy.warmUpRequestCount, 0, 'nothing in the calling turn');
  const deadline = Date.now() + 5000;
  while (lazy.warmUpRequestCount < 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
  assert.equal(lazy.warmUpRequestCount, 1);
  assert.equal(lazy.compiledCount, 1, "the request compiled its route's schema before anyone asked");
  assert.equal(lazy.pendingCount, 4, 'the schemas wait for the requests');
  while (lazy.pendingCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(lazy.warmUpRequestCount, 2);
  assert.equal(lazy.pendingCount, 0, "the warm-up's own requests did not count as activity");
  await app.close();
});
