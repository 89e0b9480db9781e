/**
 * Where a night's catalogue rows are kept in S3 (and nowhere locally: the catalogue itself is the local
 * copy): `catalogue/YYYYMMDD/programidN.jsonl.gz`, beside the tarball, MD5SUMS and segments that keep
 * their data-folder keys. See catalogue-snapshot.ts for the format.
 */
export function nightCatalogueKey(night: string, programid: number): string {
  return `catalogue/${night}/programid${programid}.jsonl.gz`;
}
