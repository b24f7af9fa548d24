#!/usr/bin/env node
// Signs a file with Sigstore's own JavaScript signer (@sigstore/sign), against Sigstore's mock
// Fulcio, Rekor and timestamp authority (@sigstore/mock, served in-process), so that kubeharden's
// verifier is tested on bundles it did not make. Writes to OUT:
//   bundle.json        the Sigstore bundle (v0.3)
//   trusted_root.json  a trusted root naming the mocks' CA, log and TSA keys
//   key.pem            the public key (--key mode)
//
//   node sigstore-sign.js --out OUT [--key] [--dsse TYPE] [--tsa] [--no-tlog]
//        [--identity EMAIL] [--issuer URL] FILE
//
// --key signs with a fresh P-256 key instead of a Fulcio certificate; --dsse wraps the file as a
// DSSE payload of that type instead of a message signature; --tsa adds an RFC 3161 timestamp;
// --no-tlog leaves the transparency log out.
//
// Images (the registry at HOST is a plain-HTTP loopback one):
//   --image HOST/REPO@sha256:HEX --legacy     cosign's sha256-HEX.sig tag: a simple-signing payload,
//                                            its signature and material in layer annotations
//   --image ... --legacy --attest TYPE         cosign's sha256-HEX.att tag: a DSSE in-toto statement
//   --image ... --attach [--attest TYPE]       a v0.3 bundle (DSSE in-toto statement, predicate
//                                            cosign's sign/v1 or TYPE) attached as an OCI referrer
//                                            with @sigstore/oci (the sha256-HEX tag fallback)
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, '..', '..', 'deps', 'npm', 'node_modules');
const sign = require(path.join(modules, '@sigstore', 'sign'));
const mock = require(path.join(modules, '@sigstore', 'mock'));
const mockHttp = require(path.join(modules, '@sigstore', 'mock', 'dist', 'mock'));
const { bundleToJSON } = require(path.join(modules, '@sigstore', 'bundle'));
const oci = require(path.join(modules, '@sigstore', 'oci'));

const FULCIO = 'https://fulcio.mock.test';
const REKOR = 'https://rekor.mock.test';
const TSA = 'https://tsa.mock.test';

function parseArgs(argv) {
  const a = { key: false, tsa: false, tlog: true, identity: 'alice@example.com',
    issuer: 'https://issuer.example.com' };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--out') a.out = argv[++i];
    else if (v === '--key') a.key = true;
    else if (v === '--dsse') a.dsse = argv[++i];
    else if (v === '--tsa') a.tsa = true;
    else if (v === '--no-tlog') a.tlog = false;
    else if (v === '--identity') a.identity = argv[++i];
    else if (v === '--issuer') a.issuer = argv[++i];
    else if (v === '--image') a.image = argv[++i];
    else if (v === '--legacy') a.legacy = true;
    else if (v === '--attach') a.attach = true;
    else if (v === '--attest') a.attest = argv[++i];
    else if (v.startsWith('--')) throw new Error(`unknown flag ${v}`);
    else a.file = v;
  }
  if (!a.out || (!a.file && !a.image)) throw new Error('usage: --out DIR FILE');
  return a;
}

// An unsigned JWT: the mock Fulcio reads its claims without checking a signature.
function token(identity, issuer) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'none' })}.${b64({ iss: issuer, sub: identity, email: identity,
    email_verified: true, aud: 'sigstore' })}.`;
}

const b64 = (buf) => Buffer.from(buf).toString('base64');
const spki = (keyObject) => keyObject.export({ format: 'der', type: 'spki' });
const validFor = { start: '2020-01-01T00:00:00Z' };

async function main() {
  const args = parseArgs(process.argv.slice(2));
  // One clock for every mock: signing certificates, log entries and time stamps all say the
  // same instant, in whole seconds, set (below) after the mocks made their root certificates
  // (which take the real time), so that no verifier sees a time before a certificate it needs.
  const clock = new Date();
  fs.mkdirSync(args.out, { recursive: true });
  const root = { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] };

  let signer;
  if (args.key) {
    const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ format: 'pem', type: 'spki' });
    fs.writeFileSync(path.join(args.out, 'key.pem'), pem);
    signer = { sign: async (data) => ({ signature: crypto.sign('sha256', data, privateKey),
      key: { $case: 'publicKey', publicKey: pem } }) };
  } else {
    const caKeys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ctlog = await mock.initializeCTLog(caKeys, clock);
    const ca = await mock.initializeCA(caKeys, ctlog, clock);
    mockHttp.mock(FULCIO, mock.fulcioHandler(ca, { strict: true }));
    root.certificateAuthorities.push({ subject: { organization: 'sigstore.mock',
      commonName: 'sigstore' }, uri: FULCIO,
    certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor });
    root.ctlogs.push({ baseUrl: 'https://ctfe.mock.test', hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(ctlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor }, logId: { keyId: b64(ctlog.logID) } });
    signer = new sign.FulcioSigner({ fulcioBaseURL: FULCIO,
      identityProvider: { getToken: async () => token(args.identity, args.issuer) } });
  }

  const witnesses = [];
  if (args.tlog) {
    const keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tlog = await mock.initializeTLog(REKOR, keys, clock);
    mockHttp.mock(REKOR, mock.rekorHandler(tlog, { strict: true }));
    root.tlogs.push({ baseUrl: REKOR, hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor },
      logId: { keyId: b64(crypto.createHash('sha256').update(tlog.publicKey).digest()) } });
    witnesses.push(new sign.RekorWitness({ rekorBaseURL: REKOR,
      entryType: args.dsse || args.attach || args.attest ? 'intoto' : undefined }));
  }
  if (args.tsa) {
    const keys = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const tsa = await mock.initializeTSA(keys, clock);
    mockHttp.mock(TSA, mock.tsaHandler(tsa, { strict: true }));
    root.timestampAuthorities.push({ subject: { organization: 'sigstore.mock',
      commonName: 'tsa' }, uri: TSA,
    certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) },
      { rawBytes: b64(tsa.rootCertificate) }] }, validFor });
    witnesses.push(new sign.TSAWitness({ tsaBaseURL: TSA }));
  }

  clock.setTime(Math.ceil(Date.now() / 1000) * 1000 + 1000);
  fs.writeFileSync(path.join(args.out, 'trusted_root.json'), JSON.stringify(root, null, 1));
  if (args.image) return signImage(args, signer, witnesses);
  const data = fs.readFileSync(args.file);
  const Builder = args.dsse ? sign.DSSEBundleBuilder : sign.MessageSignatureBundleBuilder;
  const builder = new Builder({ signer, witnesses });
  const bundle = await builder.create({ data, type: args.dsse });
  fs.writeFileSync(path.join(args.out, 'bundle.json'), JSON.stringify(bundleToJSON(bundle), null, 1));
}

const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
const pem = (der) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(der, 'base64').toString('base64')
  .match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;

// The distribution API, monolithic uploads, plain HTTP (loopback test registries only), with
// Basic credentials from REGISTRY_USER and REGISTRY_PASSWORD when set.
const user = process.env.REGISTRY_USER || '';
const password = process.env.REGISTRY_PASSWORD || '';
const auth = user ? { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
  : {};

async function pushBlob(host, repo, data) {
  const digest = `sha256:${sha256hex(data)}`;
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST',
    headers: auth });
  if (start.status !== 202) throw new Error(`blob upload: ${start.status}`);
  const loc = new URL(start.headers.get('location'), `http://${host}`);
  loc.searchParams.set('digest', digest);
  const put = await fetch(loc, { method: 'PUT', body: data,
    headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`blob put: ${put.status}`);
  return { digest, size: data.length };
}

async function pushManifest(host, repo, tag, manifest) {
  const body = Buffer.from(JSON.stringify(manifest));
  const r = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body,
    headers: { ...auth, 'Content-Type': manifest.mediaType } });
  if (r.status !== 201) throw new Error(`manifest put: ${r.status} ${await r.text()}`);
}

// What cosign's legacy annotations carry, from a bundle @sigstore/sign made.
function cosignAnnotations(json, signature) {
  const vm = json.verificationMaterial;
  const ann = {};
  if (signature) ann['dev.cosignproject.cosign/signature'] = signature;
  const chain = vm.x509CertificateChain ? vm.x509CertificateChain.certificates
    : vm.certificate ? [vm.certificate] : [];
  if (chain.length > 0) ann['dev.sigstore.cosign/certificate'] = pem(chain[0].rawBytes);
  const e = (vm.tlogEntries || [])[0];
  if (e) {
    ann['dev.sigstore.cosign/bundle'] = JSON.stringify({
      SignedEntryTimestamp: e.inclusionPromise.signedEntryTimestamp,
      Payload: { body: e.canonicalizedBody, integratedTime: Number(e.integratedTime),
        logIndex: Number(e.logIndex),
        logID: Buffer.from(e.logId.keyId, 'base64').toString('hex') } });
  }
  return ann;
}

// A bundle in v0.3's spelling: the signing certificate alone, not a chain.
function toV03(json) {
  const out = JSON.parse(JSON.stringify(json));
  out.mediaType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
  const vm = out.verificationMaterial;
  if (vm.x509CertificateChain) {
    vm.certificate = vm.x509CertificateChain.certificates[0];
    delete vm.x509CertificateChain;
  }
  return out;
}

async function signImage(args, signer, witnesses) {
  const at = args.image.lastIndexOf('@');
  const name = args.image.slice(0, at);
  const digest = args.image.slice(at + 1);
  const host = name.slice(0, name.indexOf('/'));
  const repo = name.slice(name.indexOf('/') + 1);
  const hex = digest.slice('sha256:'.length);
  const emptyConfig = await pushBlob(host, repo, Buffer.from('{}'));
  const statement = (type) => Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1', subject: [{ name, digest: { sha256: hex } }],
    predicateType: type, predicate: type === 'https://sigstore.dev/cosign/sign/v1' ? {}
      : { builder: { id: 'https://example.com/builder' }, tested: true } }));
  if (args.legacy) {
    let layer;
    if (args.attest) {
      const bundle = await new sign.DSSEBundleBuilder({ signer, witnesses })
        .create({ data: statement(args.attest), type: 'application/vnd.in-toto+json' });
      const json = bundleToJSON(bundle);
      const envelope = Buffer.from(JSON.stringify(json.dsseEnvelope));
      const blob = await pushBlob(host, repo, envelope);
      layer = { mediaType: 'application/vnd.dsse.envelope.v1+json', ...blob,
        annotations: { ...cosignAnnotations(json), predicateType: args.attest } };
    } else {
      const payload = Buffer.from(JSON.stringify({ critical: { identity:
        { 'docker-reference': name }, image: { 'docker-manifest-digest': digest },
      type: 'cosign container image signature' }, optional: null }));
      const bundle = await new sign.MessageSignatureBundleBuilder({ signer, witnesses })
        .create({ data: payload });
      const json = bundleToJSON(bundle);
      const blob = await pushBlob(host, repo, payload);
      layer = { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...blob,
        annotations: cosignAnnotations(json, json.messageSignature.signature) };
    }
    await pushManifest(host, repo, `sha256-${hex}.${args.attest ? 'att' : 'sig'}`, {
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...emptyConfig },
      layers: [layer] });
    return;
  }
  const type = args.attest || 'https://sigstore.dev/cosign/sign/v1';
  const bundle = await new sign.DSSEBundleBuilder({ signer, witnesses })
    .create({ data: statement(type), type: 'application/vnd.in-toto+json' });
  const json = toV03(bundleToJSON(bundle));
  fs.writeFileSync(path.join(args.out, 'bundle.json'), JSON.stringify(json, null, 1));
  await oci.attachArtifactToImage({ imageName: name, imageDigest: digest,
    artifact: Buffer.from(JSON.stringify(json)),
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': type },
    credentials: { username: user, password } });
}

main().catch((e) => {
  process.stderr.write(`sigstore-sign: ${e.stack || e}\n${e.cause ? `cause: ${e.cause.stack || e.cause}\n` : ""}`);
  process.exit(1);
});
