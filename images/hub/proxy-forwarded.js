// Preloaded into configurable-http-proxy (node --require): forwarding headers a client sent are
// dropped before the request is proxied, so what the hub, labs and services read in them is what
// our own proxies wrote.
//
// configurable-http-proxy appends the peer to X-Forwarded-For but passes every other client
// header on: a client's X-Real-Ip became the address in JupyterHub's request log (tornado
// believes X-Real-Ip over X-Forwarded-For), a client's X-Scheme its idea of the protocol, and a
// client's X-Forwarded-Host stayed as sent. It has no option to drop them, hence this hook.
//
// X-Real-Ip, X-Scheme and Forwarded are never ours: always dropped. X-Forwarded-* are kept only
// from a front proxy of ours (CELERYLAB_TRUSTED_PROXIES, names or addresses, as the hub reads
// it: the TLS proxy, which sets them itself); the proxy then appends its own entries as usual.
"use strict";

const dns = require("dns").promises;
const net = require("net");
const { ConfigurableProxy } = require("/usr/share/nodejs/configurable-http-proxy/lib/configproxy.js");

const NEVER_OURS = new Set(["x-real-ip", "x-scheme", "forwarded"]);
const RESOLVE_EVERY_MS = 30000; // a recreated front proxy has a new address

const trustedNames = (process.env.CELERYLAB_TRUSTED_PROXIES || "proxy,tls")
  .split(",")
  .map((name) => name.trim())
  .filter(Boolean);
let trusted = { addresses: new Set(), until: 0 };

async function trustedAddresses() {
  if (Date.now() < trusted.until) return trusted.addresses;
  const addresses = new Set();
  for (const name of trustedNames) {
    if (net.isIP(name)) {
      addresses.add(name);
      continue;
    }
    try {
      for (const found of await dns.lookup(name, { all: true })) addresses.add(found.address);
    } catch (e) {
      // not part of this install (no TLS proxy in the one-command install)
    }
  }
  trusted = { addresses, until: Date.now() + RESOLVE_EVERY_MS };
  return addresses;
}

function peerOf(req) {
  const address = (req.socket && req.socket.remoteAddress) || "";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}

async function scrub(req) {
  const fromFrontProxy = (await trustedAddresses()).has(peerOf(req));
  for (const header of Object.keys(req.headers)) {
    const forwarded = header.startsWith("x-forwarded-");
    if (NEVER_OURS.has(header) || (forwarded && !fromFrontProxy)) delete req.headers[header];
  }
}

const handleProxy = ConfigurableProxy.prototype.handleProxy;
ConfigurableProxy.prototype.handleProxy = async function (kind, req, ...rest) {
  await scrub(req);
  return handleProxy.call(this, kind, req, ...rest);
};
