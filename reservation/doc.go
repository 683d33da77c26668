// Package reservation holds the Specific License Reservation (SLR) code
// formats shared by the node (ucmsh) and the licensing server (cssm): the
// request code, the signed authorization code, the confirmation and return
// codes, and the pure checks a node applies before it installs a code.
//
// Everything here is a pure function of its arguments (no clock, no store,
// no network; LoadTrustDir alone reads the folder it is given), so both
// sides compute the same codes and tests need no set-up. Fetching a code
// over SFTP is package installfile's job.
// Every error a user can see is one sentence saying what is wrong and what to
// do; its kind is one of the Err* sentinels, to be tested with errors.Is.
//
// Decisions where Cisco's format is silent (REFERENCE.md §4):
//
//   - [ucmsh] Export-controlled functionality is carried by an optional
//     <exportAllowed>true</exportAllowed> element placed after </entitlements>
//     inside <authorizationCode>, so it is covered by the signature. Codes
//     without it (every captured Cisco code) mean "not allowed"; "false" is
//     accepted and rendered by omission.
//   - [ucmsh] The signature is DER ECDSA P-256 over SHA-256 of the
//     <authorizationCode>…</authorizationCode> bytes followed by the <udi>
//     text, exactly as received after removing CR and LF.
//   - [ucmsh] The confirmation code is the first 4 bytes, in lowercase hex, of
//     SHA-256("ucmsh-confirmation" 0 signature 0 UDI 0 timestamp-ms): the
//     server recomputes it from the code it issued.
//   - [ucmsh] The return code is HMAC-SHA-512, keyed with the signature bytes,
//     of "ucmsh-return" 0 UDI 0 timestamp-ms, reduced modulo 62^51 and written
//     as 51 base-62 digits (0-9A-Za-z) in groups 6-6-6-6-6-6-6-6-3. Keying
//     with the signature means only a holder of the issued code can make it.
//   - [ucmsh] A licence that carries dates (TERM always; PERPETUAL may) is
//     valid from the start of its start day through the end of its end day
//     (UTC, both inclusive), the same at install as in the reports.
//   - [ucmsh] A code issued more than MaxClockSkew (24 hours) after the
//     node's clock is refused: the clock is wrong, or the code would push
//     the reservation sequence ahead of every honest code.
package reservation
