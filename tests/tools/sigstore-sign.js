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
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, '..', '..', 'deps', 'npm', 'node_modules');
const sign = require(path.join(modules, '@sigstore', 'sign'));
const mock = require(path.join(modules, '@sigstore', 'mock'));
const mockHttp = require(path.join(modules, '@sigstore', 'mock', 'dist', 'mock'));
const { bundleToJSON } = require(path.join(modules, '@sigstore', 'bundle'));

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
    else if (v.startsWith('--')) throw new Error(`unknown flag ${v}`);
    else a.file = v;
  }
  if (!a.out || !a.file) throw new Error('usage: --out DIR FILE');
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
      entryType: args.dsse ? 'intoto' : undefined }));
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
  const data = fs.readFileSync(args.file);
  const Builder = args.dsse ? sign.DSSEBundleBuilder : sign.MessageSignatureBundleBuilder;
  const builder = new Builder({ signer, witnesses });
  const bundle = await builder.create({ data, type: args.dsse });
  fs.writeFileSync(path.join(args.out, 'bundle.json'), JSON.stringify(bundleToJSON(bundle), null, 1));
  fs.writeFileSync(path.join(args.out, 'trusted_root.json'), JSON.stringify(root, null, 1));
}

main().catch((e) => {
  process.stderr.write(`sigstore-sign: ${e.stack || e}\n`);
  process.exit(1);
});
