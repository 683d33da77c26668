// Package cssm is the licensing server stand-in (Cisco Smart Software Manager or an
// on-prem satellite): smart and virtual accounts, licence pools, registration
// tokens, product instances, export authorization keys, its signing key, and the
// product-facing HTTP API whose wire types are in package cssmapi.
//
// State lives in one directory (DefaultDir, or --store): cssm.json (schema version
// 1, replaced atomically), cssm.lock (the flock every transaction takes),
// signing_key.pem, and tls_cert.pem/tls_key.pem once TLS is used. A store at
// <root>/cssm also writes its public key to <root>/node/trust/cssm.pem.
//
// Behaviour chosen where CSSM's is not documented:
//   - A UDI is registered at most once in the store. Registering it again with a
//     token of the same virtual account replaces the old instance (new id and
//     credential, export keys released), with or without force; moving it to
//     another virtual account needs force.
//   - Compliance is per virtual account: the sum of every instance's last report
//     per tag against perpetual licences plus TERM licences through their last
//     day (UTC), higher tiers covering lower ones on the same ladder. An
//     entitlement the asking instance reports as 0 is InCompliance.
//   - Tokens are stored as issued (like the portal, which shows them again);
//     instance credentials only as SHA-256.
//   - cssm's clock (--now) is fixed for the life of the process when given.
package cssm
