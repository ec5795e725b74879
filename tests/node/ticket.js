// Mints wsgate tickets with the npm `jsonwebtoken` package, as an application's HTTP API
// would, and makes key pairs for the RS256/ES256 tests.
//
//   node ticket.js keys <RS256|ES256> <dir>             -> dir/private.pem, public.pem, jwks.json
//   node ticket.js mint <HS256|RS256|ES256> <keyfile> '<claims json>' [kid]  -> prints the JWT
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const jwt = require('jsonwebtoken');

const [cmd, alg, arg, claims, kid] = process.argv.slice(2);

if (cmd === 'keys') {
  const pair = alg === 'RS256'
    ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    : crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  fs.writeFileSync(path.join(arg, 'private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  fs.writeFileSync(path.join(arg, 'public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  const jwk = pair.publicKey.export({ format: 'jwk' });
  fs.writeFileSync(path.join(arg, 'jwks.json'), JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg, use: 'sig' }] }));
} else if (cmd === 'mint') {
  const key = fs.readFileSync(arg);
  const payload = JSON.parse(claims);
  // No iat unless the test gives one (then it is kept as given).
  const options = { algorithm: alg, noTimestamp: !('iat' in payload) };
  if (kid) options.keyid = kid;
  process.stdout.write(jwt.sign(payload, key, options));
} else {
  process.stderr.write('usage: ticket.js keys|mint ...\n');
  process.exit(2);
}
