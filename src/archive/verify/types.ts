/**
 * What `verifyArchive` can find wrong. MD5SUMS against the tarballs; tarball members against the
 * catalogue rows and the segment bytes they point to; segment files against the sizes the catalogue
 * recorded; closed nights against their tarball.
 */
export const DIFFERENCE_KINDS = {
  /** MD5SUMS gives one MD5 for a tarball, its bytes have another. */
  'md5sums-mismatch': 'MD5SUMS line differs from the tarball',
  /** A closed night's tarball has no MD5SUMS line. */
  'md5sums-missing': 'tarball not listed in MD5SUMS',
  /** An MD5SUMS line names a tarball that no store holds (and no closed night accounts for). */
  'md5sums-orphan': 'MD5SUMS lists a tarball that is not there',
  /** A line that is not `<32 hex>  <name>`: `md5sum -c` refuses the file. */
  'md5sums-malformed': 'MD5SUMS line not in md5sum format',
  /** A closed night has no tarball in any store. */
  'tarball-missing': 'closed night without a tarball',
  /** The tarball's gzip or tar stream is damaged. */
  'tarball-unreadable': 'tarball damaged',
  /** The catalogue's record of the tarball (MD5, size, member count) differs from the tarball. */
  'tarball-catalogue-mismatch': 'tarball differs from its catalogue record',
  /** A catalogue row of the night has no member in the tarball. */
  'member-missing': 'alert missing from the tarball',
  /** A member that is no catalogue row of the night (or not named `<candid>.avro`). */
  'member-extra': 'tarball member not in the catalogue',
  /** The same candid twice in the tarball. */
  'member-duplicate': 'tarball member twice',
  /** A member's bytes differ from the archived bytes of its alert. */
  'member-bytes-differ': 'tarball member differs from the archived alert',
  /** A row points into a segment no store holds. */
  'row-bytes-missing': 'alert bytes missing',
  /** A row points past the end of its segment. */
  'row-bytes-short': 'alert bytes cut short',
  /** A segment the catalogue records is in no store. */
  'segment-missing': 'segment missing',
  /** A segment holds more bytes than the catalogue accounts for. */
  'segment-larger': 'segment larger than recorded',
  /** A segment holds fewer bytes than the catalogue accounts for. */
  'segment-smaller': 'segment smaller than recorded',
  /** A segment file of the night that the catalogue does not know. */
  'segment-unknown': 'segment file not in the catalogue',
} as const;

export type DifferenceKind = keyof typeof DIFFERENCE_KINDS;

/** One thing that does not agree. */
export interface Difference {
  /** YYYYMMDD, or null for a line of MD5SUMS that names no night. */
  night: string | null;
  programid: number;
  kind: DifferenceKind;
  /** What exactly, with the key, candid, sizes or MD5s involved. */
  detail: string;
  /** The object concerned (tarball, segment or MD5SUMS key), when there is one. */
  key?: string;
  /** The alert concerned, as a string (64-bit). */
  candid?: string;
}
