#!/usr/bin/env node
// Verifies a Sigstore bundle with Sigstore's own JavaScript verifier (@sigstore/verify), as the
// independent second opinion kubeharden's tests compare with. Prints "verified" or
// "rejected: REASON" and exits 0 or 1 (2 on usage errors).
//
//   node sigstore-verify.js --bundle B --trusted-root R [--key PEM | --identity ID --issuer URL]
//        [--no-ctlog] FILE
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const modules = path.join(__dirname, '..', '..', 'deps', 'npm', 'node_modules');
const verify = require(path.join(modules, '@sigstore', 'verify'));
const { bundleFromJSON } = require(path.join(modules, '@sigstore', 'bundle'));
const { TrustedRoot } = require(path.join(modules, '@sigstore', 'protobuf-specs'));

function main(argv) {
  const a = { ctlog: true };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '--bundle') a.bundle = argv[++i];
    else if (v === '--trusted-root') a.root = argv[++i];
    else if (v === '--key') a.key = argv[++i];
    else if (v === '--identity') a.identity = argv[++i];
    else if (v === '--issuer') a.issuer = argv[++i];
    else if (v === '--no-ctlog') a.ctlog = false;
    else a.file = v;
  }
  if (!a.bundle || !a.root || !a.file) {
    process.stderr.write('usage: --bundle B --trusted-root R [--key PEM] FILE\n');
    return 2;
  }
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(a.bundle, 'utf8')));
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(a.root, 'utf8')));
  let keys;
  if (a.key) {
    const pem = fs.readFileSync(a.key, 'utf8');
    const der = crypto.createPublicKey(pem).export({ format: 'der', type: 'spki' });
    keys = () => ({ publicKey: crypto.createPublicKey(pem), validFor: () => true, der });
  }
  const material = verify.toTrustMaterial(root, keys);
  const verifier = new verify.Verifier(material, { ctlogThreshold: a.ctlog && !a.key ? 1 : 0,
    tlogThreshold: bundle.verificationMaterial.tlogEntries.length > 0 ? 1 : 0,
    timestampThreshold: a.key ? 0 : 1 });
  const policy = a.key ? {} : { subjectAlternativeName: a.identity,
    extensions: { issuer: a.issuer } };
  try {
    verifier.verify(verify.toSignedEntity(bundle, fs.readFileSync(a.file)), policy);
    process.stdout.write('verified\n');
    return 0;
  } catch (e) {
    process.stdout.write(`rejected: ${e.code || ''} ${e.message}\n`);
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
