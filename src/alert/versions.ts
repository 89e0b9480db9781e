/**
 * ZTF alert schema versions, recognised by structure. The key is the SHA-256 of the Avro Parsing
 * Canonical Form of the whole alert schema (names, types, field order; docs and defaults do not count),
 * computed from the published schemas of ZwickyTransientFacility/ztf-avro-alert. test/alert/versions.test.ts
 * recomputes every entry from ../shared/data/ztf/schemas.
 *
 * Structure is trusted over labels: alerts exist whose embedded `version` attribute, or `schemavsn`
 * field, disagrees with what the bytes are.
 */
export const KNOWN_STRUCTURES: ReadonlyMap<string, readonly string[]> = new Map([
  ['6ac12491df763c9577cd2bfb140ff261dff2b71595bbbe86ceb6b45256ccf6f9', ['1.8']],
  ['5a21a3eab9844fd1c5963a947844987d7f62a2739104a22c0f60493392a0e005', ['2.0']],
  ['bcaf63da6165eb9ef54391399b928f8ca5dc674ce509778266d54faf5e7e5052', ['3.0']],
  ['77c45bb5788e6c719b430a6b5de285c8a24cf8638f97eb626cea5f103031303d', ['3.1']],
  ['42460973aa3610bd8e274e7298f30c2145a9b98c3bef3c6b264a20db3306a441', ['3.2']],
  ['09b312a2dadfafcf684b816502cb0f505997175fc2df4ed64273d75d4ac75f61', ['3.3']],
  // 4.01 and 4.02 differ only in docs and defaults: the same bytes on the wire.
  ['2e3ca42a7603e5b42987c5d43503a9ec8b3ed803c54ad0a42d7d9101d7d9d32b', ['4.01', '4.02']],
]);
