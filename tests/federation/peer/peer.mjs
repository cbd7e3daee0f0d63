// A real ActivityPub server for microblog's federation tests: Fedify, in memory, one process.
//
// Served at https://$PEER_HOST (nginx in front terminates TLS) from http://$PEER_BIND:$PEER_PORT.
// People: $PEER_USERS (comma-separated, default "bob"), more with POST /_control/users. Each has
// RSA and Ed25519 keys made at start, an inbox, the shared inbox /inbox, an outbox, followers and
// following. Every activity that reaches an inbox is recorded; a Follow is accepted at once.
//
// The control API, plain JSON under /_control/ (what a test calls, not what other servers see):
//   GET  /_control/health                          {"ok": true}
//   POST /_control/users            {name}         another person
//   POST /_control/users/:name/follow   {target}   "@alice@a.test" or an actor URL: look up, Follow
//   POST /_control/users/:name/unfollow {target}   Undo the Follow
//   POST /_control/users/:name/notes    {content, to?: "public" | "followers"}  Create{Note} to followers
//   POST /_control/users/:name/notes/edit   {note, content}   Update{Note} (the same addressing)
//   POST /_control/users/:name/notes/delete {note}            Delete{Tombstone}
//   GET  /_control/users/:name/received            what reached his inbox, or the shared inbox for him
//   GET  /_control/users/:name/following           [{actor, target, follow, state: pending|accepted|rejected}]
//   GET  /_control/users/:name/followers           [{actor, inbox, sharedInbox, follow}]
//   GET  /_control/users/:name/outbox              the activities he sent
//   GET  /_control/requests                        every POST to an inbox: status, signature scheme
import { Temporal } from "@js-temporal/polyfill";
globalThis.Temporal ??= Temporal; // Node 22 has none; Fedify expects it

import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { createFederation, generateCryptoKeyPair, InProcessMessageQueue, MemoryKvStore } from "@fedify/fedify";
import {
  Accept, Activity, Create, Delete, Endpoints, Follow, Note, Person, PUBLIC_COLLECTION, Reject, Tombstone, Undo, Update,
} from "@fedify/vocab";

const HOST = process.env.PEER_HOST ?? "peer.test";
const ORIGIN = `https://${HOST}`;
const uuid = () => crypto.randomUUID();

// --- what the peer knows, all in memory --------------------------------------------------------
const people = new Map(); // name -> {keys, following: Map(actor -> entry), followers: Map, outbox: []}
const received = [];      // {id, type, actor, object, objectType, content, inbox, recipient, raw, at}
const requests = [];      // {method, path, status, signature, at}
const notes = new Map();  // note id -> Note (served by the object dispatcher)
const requestLog = new WeakMap(); // Request -> its entry in requests

async function addPerson(name) {
  if (!people.has(name)) {
    people.set(name, {
      keys: [await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"), await generateCryptoKeyPair("Ed25519")],
      following: new Map(), followers: new Map(), outbox: [],
    });
  }
  return people.get(name);
}

// --- the federation ----------------------------------------------------------------------------
const federation = createFederation({
  kv: new MemoryKvStore(),
  queue: new InProcessMessageQueue(),
  origin: ORIGIN,              // behind nginx: the public https origin, not the loopback one
  allowPrivateAddress: true,   // a.test and friends are 127.0.0.x: tests only
});

federation.setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
  if (!people.has(identifier)) return null;
  const keys = await ctx.getActorKeyPairs(identifier);
  return new Person({
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    name: identifier[0].toUpperCase() + identifier.slice(1),
    summary: `<p>${identifier} lives on a Fedify peer for microblog's tests.</p>`,
    url: ctx.getActorUri(identifier),
    inbox: ctx.getInboxUri(identifier),
    outbox: ctx.getOutboxUri(identifier),
    followers: ctx.getFollowersUri(identifier),
    following: ctx.getFollowingUri(identifier),
    endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
    publicKey: keys[0].cryptographicKey,                 // RSA: draft-cavage and RFC 9421 signatures
    assertionMethods: keys.map((key) => key.multikey),  // Ed25519 too: object integrity proofs
    manuallyApprovesFollowers: false,
    discoverable: true,
  });
}).setKeyPairsDispatcher((ctx, identifier) => people.get(identifier)?.keys ?? []);

federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", (ctx, values) =>
  notes.get(ctx.getObjectUri(Note, values).href) ?? null);

federation.setOutboxDispatcher("/users/{identifier}/outbox", async (ctx, identifier) => {
  const person = people.get(identifier);
  if (!person) return null;
  return { items: await Promise.all(person.outbox.map((json) => Activity.fromJsonLd(json, ctx))) };
});

federation.setFollowersDispatcher("/users/{identifier}/followers", (ctx, identifier) => {
  const person = people.get(identifier);
  if (!person) return null;
  return { items: [...person.followers.values()].map((f) => ({
    id: new URL(f.actor), inboxId: new URL(f.inbox),
    endpoints: f.sharedInbox ? { sharedInbox: new URL(f.sharedInbox) } : null,
  })) };
});

federation.setFollowingDispatcher("/users/{identifier}/following", (ctx, identifier) => {
  const person = people.get(identifier);
  if (!person) return null;
  return { items: [...person.following.values()].filter((f) => f.state === "accepted").map((f) => new URL(f.actor)) };
});

federation.setNodeInfoDispatcher("/nodeinfo/2.1", () => ({
  software: { name: "fedify-peer", version: "0.1.0" },
  protocols: ["activitypub"],
  usage: { users: { total: people.size }, localPosts: notes.size, localComments: 0 },
}));

// --- inboxes: record everything, accept follows, keep track of answers -------------------------
async function record(ctx, activity) {
  const raw = await activity.toJsonLd({ format: "compact", contextLoader: ctx.contextLoader });
  const object = typeof raw.object === "object" && raw.object !== null ? raw.object : null;
  const entry = {
    id: activity.id?.href ?? null, type: raw.type, actor: activity.actorId?.href ?? null,
    object: object ? object.id ?? null : raw.object ?? null, objectType: object?.type ?? null,
    content: object?.content ?? null, inbox: ctx.recipient ? "inbox" : "sharedInbox",
    recipient: ctx.recipient, raw, at: new Date().toISOString(),
  };
  received.push(entry);
  return entry;
}

const sentFollow = (id) => {
  for (const person of people.values()) {
    for (const entry of person.following.values()) if (entry.follow === id) return entry;
  }
  return null;
};

const answer = (state) => async (ctx, activity) => {
  await record(ctx, activity);
  const entry = sentFollow(activity.objectId?.href)
    ?? [...people.values()].map((p) => p.following.get(activity.actorId?.href)).find(Boolean);
  if (entry) entry.state = state;
};

federation.setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Follow, async (ctx, follow) => {
    await record(ctx, follow);
    const target = ctx.parseUri(follow.objectId);
    if (target?.type !== "actor" || !people.has(target.identifier) || !follow.id) return;
    const follower = await follow.getActor(ctx);
    if (!follower?.id || !follower.inboxId) return;
    people.get(target.identifier).followers.set(follower.id.href, {
      actor: follower.id.href, inbox: follower.inboxId.href,
      sharedInbox: follower.endpoints?.sharedInbox?.href ?? null, follow: follow.id.href,
    });
    await send(ctx, target.identifier, follower, new Accept({
      id: new URL(`#accepts/${uuid()}`, ctx.getActorUri(target.identifier)),
      actor: ctx.getActorUri(target.identifier), object: follow,
    }));
  })
  .on(Undo, async (ctx, undo) => {
    await record(ctx, undo);
    for (const person of people.values()) {
      for (const [actor, f] of person.followers) {
        if (actor === undo.actorId?.href && (f.follow === undo.objectId?.href || !undo.objectId)) {
          person.followers.delete(actor);
        }
      }
    }
  })
  .on(Accept, answer("accepted"))
  .on(Reject, answer("rejected"))
  .on(Create, record)
  .on(Update, record)
  .on(Delete, record)
  .on(Activity, record) // anything else (Like, Announce...): recorded too
  .onUnverifiedActivity(async (ctx, activity, reason) => {
    const entry = requestLog.get(ctx.request);
    if (entry) entry.unverified = { activity: activity.id?.href ?? null, reason: reason.type };
  })
  .onError((ctx, error) => console.error("inbox error:", error));

async function send(ctx, name, recipients, activity) {
  people.get(name).outbox.push(await activity.toJsonLd({ contextLoader: ctx.contextLoader }));
  // As Mastodon does: to followers one copy per server (its shared inbox), else to the inbox.
  await ctx.sendActivity({ identifier: name }, recipients, activity,
    { preferSharedInbox: recipients === "followers" });
}

// --- the control API ---------------------------------------------------------------------------
const app = new Hono();
const control = new Hono();
const person = (c) => people.get(c.req.param("name")) ?? null;
const noSuchPerson = (c) => c.json({ error: `no person ${c.req.param("name")} here` }, 404);
const contextFor = (c) => federation.createContext(new URL(ORIGIN), undefined);

control.get("/health", (c) => c.json({ ok: true, people: [...people.keys()] }));
control.post("/users", async (c) => {
  const { name } = await c.req.json();
  await addPerson(name);
  return c.json({ actor: contextFor(c).getActorUri(name).href });
});

control.post("/users/:name/follow", async (c) => {
  const me = person(c);
  if (!me) return noSuchPerson(c);
  const { target } = await c.req.json();
  const ctx = contextFor(c);
  let actor = null;
  try {
    actor = await ctx.lookupObject(target);
  } catch (error) {
    return c.json({ error: `looking up ${target} failed: ${error}` }, 502);
  }
  if (!actor?.id || !actor.inboxId) return c.json({ error: `${target} is not an actor anyone found` }, 404);
  const follow = new Follow({
    id: new URL(`#follows/${uuid()}`, ctx.getActorUri(c.req.param("name"))),
    actor: ctx.getActorUri(c.req.param("name")), object: actor.id,
  });
  me.following.set(actor.id.href, { actor: actor.id.href, target, follow: follow.id.href, state: "pending" });
  await send(ctx, c.req.param("name"), actor, follow);
  return c.json({ actor: actor.id.href, follow: follow.id.href });
});

control.post("/users/:name/unfollow", async (c) => {
  const me = person(c);
  if (!me) return noSuchPerson(c);
  const { target } = await c.req.json();
  const entry = me.following.get(target) ?? [...me.following.values()].find((f) => f.target === target);
  if (!entry) return c.json({ error: `${c.req.param("name")} does not follow ${target}` }, 404);
  const ctx = contextFor(c);
  const actor = await ctx.lookupObject(entry.actor);
  const me_uri = ctx.getActorUri(c.req.param("name"));
  const undo = new Undo({
    id: new URL(`#undos/${uuid()}`, me_uri), actor: me_uri,
    object: new Follow({ id: new URL(entry.follow), actor: me_uri, object: new URL(entry.actor) }),
  });
  me.following.delete(entry.actor);
  await send(ctx, c.req.param("name"), actor, undo);
  return c.json({ actor: entry.actor, undo: undo.id.href });
});

control.post("/users/:name/notes", async (c) => {
  const name = c.req.param("name");
  if (!person(c)) return noSuchPerson(c);
  const { content, to = "public" } = await c.req.json();
  const ctx = contextFor(c);
  const id = ctx.getObjectUri(Note, { identifier: name, id: uuid() });
  const followers = ctx.getFollowersUri(name);
  const addressing = to === "followers" ? { to: followers } : { to: PUBLIC_COLLECTION, cc: followers };
  const note = new Note({
    id, attribution: ctx.getActorUri(name), content, url: id,
    published: Temporal.Now.instant(), ...addressing,
  });
  notes.set(id.href, note);
  const create = new Create({
    id: new URL(`#create`, id), actor: ctx.getActorUri(name), object: note,
    published: note.published, ...addressing,
  });
  await send(ctx, name, "followers", create);
  return c.json({ note: id.href, create: create.id.href });
});

control.post("/users/:name/notes/edit", async (c) => {
  const name = c.req.param("name");
  if (!person(c)) return noSuchPerson(c);
  const { note: noteId, content } = await c.req.json();
  const old = notes.get(noteId);
  if (!old) return c.json({ error: "no such note" }, 404);
  const ctx = contextFor(c);
  const note = old.clone({ content, updated: Temporal.Now.instant() });
  notes.set(noteId, note);
  const update = new Update({
    id: new URL(`#update-${uuid()}`, noteId), actor: ctx.getActorUri(name), object: note,
    tos: old.toIds, ccs: old.ccIds,
  });
  await send(ctx, name, "followers", update);
  return c.json({ note: noteId, update: update.id.href });
});

control.post("/users/:name/notes/delete", async (c) => {
  const name = c.req.param("name");
  if (!person(c)) return noSuchPerson(c);
  const { note: noteId } = await c.req.json();
  const old = notes.get(noteId);
  if (!old) return c.json({ error: "no such note" }, 404);
  notes.delete(noteId);
  const ctx = contextFor(c);
  const del = new Delete({
    id: new URL(`#delete`, noteId), actor: ctx.getActorUri(name), object: new Tombstone({ id: new URL(noteId) }),
    tos: old.toIds, ccs: old.ccIds,
  });
  await send(ctx, name, "followers", del);
  return c.json({ note: noteId, delete: del.id.href });
});

// His inbox's, and the shared inbox's that name him (to, cc, object) or come from someone he follows
// (not his own: the shared inbox gets those when he has followers here).
control.get("/users/:name/received", (c) => {
  if (!person(c)) return noSuchPerson(c);
  const name = c.req.param("name");
  const uri = contextFor(c).getActorUri(name).href;
  return c.json(received.filter((r) => r.recipient === name || (r.recipient === null && r.actor !== uri
    && (JSON.stringify([r.raw.to, r.raw.cc, r.raw.object]).includes(`"${uri}"`) || person(c).following.has(r.actor)))));
});
control.get("/users/:name/following", (c) => person(c) ? c.json([...person(c).following.values()]) : noSuchPerson(c));
control.get("/users/:name/followers", (c) => person(c) ? c.json([...person(c).followers.values()]) : noSuchPerson(c));
control.get("/users/:name/outbox", (c) => person(c) ? c.json(person(c).outbox) : noSuchPerson(c));
control.get("/requests", (c) => c.json(requests));

app.route("/_control", control);

// Everything else is Fedify's: WebFinger, NodeInfo, actors, inboxes, collections, notes. Each POST
// (an inbox delivery) is logged with its answer and the kind of signature it carried.
app.all("*", async (c) => {
  const request = c.req.raw;
  const entry = request.method === "POST" ? {
    method: request.method, path: new URL(request.url).pathname, status: null,
    signature: request.headers.has("signature-input") ? "rfc9421"
      : request.headers.has("signature") ? "draft-cavage" : null,
    at: new Date().toISOString(),
  } : null;
  if (entry) requests.push(entry) && requestLog.set(request, entry);
  const response = await federation.fetch(request, {
    contextData: undefined,
    onNotFound: () => new Response("Not found\n", { status: 404 }),
    onNotAcceptable: () => new Response("Not acceptable\n", { status: 406 }),
  });
  if (entry) entry.status = response.status;
  return response;
});

for (const name of (process.env.PEER_USERS ?? "bob").split(",").filter(Boolean)) await addPerson(name);
const port = Number(process.env.PEER_PORT ?? 8080);
serve({ fetch: app.fetch, hostname: process.env.PEER_BIND ?? "127.0.0.1", port }, () =>
  console.log(`fedify peer listening on ${process.env.PEER_BIND ?? "127.0.0.1"}:${port} as ${ORIGIN}`));
