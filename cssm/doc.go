// Package cssm is the licensing server stand-in (Cisco Smart Software Manager or an
// on-prem satellite): smart and virtual accounts, licence pools, registration
// tokens, product instances, export authorization keys, its signing key, and the
// product-facing HTTP API whose wire types are in package cssmapi.
//
// State lives in a database (db.go, schema.go): cssm.db in the store directory
// (DefaultDir, or --state; SQLite, WAL), or PostgreSQL with --database. The
// directory also holds cssm.lock (the flock taken when keys are made),
// signing_key.pem, tls_cert.pem/tls_key.pem once TLS is used, and
// cssm.json.imported, the old store once imported. A store at <root>/cssm also
// writes its public key to <root>/node/trust/cssm.pem.
//
// Every answer of a state-changing call is signed; a call with an
// Idempotency-Key is answered once, and its repeats get that answer, recorded
// in the same transaction as the change (idempotency.go, server.go).
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
//
// Specific License Reservation (reservation.go, reservation_portal.go):
//   - A reservation is a product instance of its virtual account with no
//     credential (the product API refuses it) and the authorization codes
//     issued to it. The code's piid is that instance's id, the same on every
//     update. A product has either a registration or a reservation: reserving
//     for a registered UDI is refused (remove the instance first), and so is
//     registering a reserved one, even with force.
//   - Timestamps: cssm's clock in whole milliseconds, or one millisecond after
//     the last code issued to that UDI, whichever is later. The last one is
//     kept per UDI even after a return, so a fixed --now in a script and a
//     reservation made again after a return still give newer codes.
//   - Codes in transit: cssm keeps the code the product confirmed (if any) and
//     every code issued after it. Confirming accepts the confirmation code of
//     any of those not yet confirmed (normally the newest; an older one when
//     the node installed that), makes it the installed code and drops older
//     ones, since a node never installs an older code. A return code is
//     accepted when it is the return code of any kept code: the installed one
//     (license smart reservation return) or one issued and never installed
//     (return-authorization).
//   - Pool: a reservation holds, of each licence kind (tier, and TERM end day),
//     the largest count any kept code names; so a raise is taken when issued
//     and a cut comes back when its code is confirmed. Only growth is checked:
//     it must fit the tier's balance as `cssm usage` shows it without this
//     reservation (purchases less other reservations and reported use, after
//     tier substitution, so no registered product falls out of compliance);
//     perpetual reservations come from perpetual licences, and a TERM one
//     ending on day E from TERM licences lasting through E. TERM reservations
//     run from the day of issue; TIER=N:TERM without a day ends with the
//     pool's latest TERM licence of the tier. Expired TERM holds stop counting
//     with their licences.
//   - Export: --allow-export on create; on update, omitted keeps the setting.
//     No export authorization key is taken for it.
//   - Removing a reservation instance needs the product's return code, which
//     gives the licences back. --force-without-return removes it anyway; its
//     licences stay reserved (ForfeitedReservation, shown by `usage` and
//     `reservation list`) until that product's return code is entered with
//     `reservation return`, the only way back.
//   - `reservation list` shows the confirmation code as entered for the
//     installed code, never the one awaited: it is the node's proof of install.
package cssm
