// Bucket and key name rules. Bucket names also become folder names on disk, so this check is what
// keeps a request from escaping the data folder.

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IP_ADDRESS = /^\d+\.\d+\.\d+\.\d+$/;

/** S3's general-purpose bucket naming rules (3-63 chars, lowercase, digits, dots, hyphens). */
export function isValidBucketName(name: string): boolean {
  if (!BUCKET.test(name)) return false;
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) return false;
  if (IP_ADDRESS.test(name)) return false;
  // Reserved prefixes and suffixes S3 refuses.
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) return false;
  return true;
}

/** S3 keys are 1-1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

export function isKeyTooLong(key: string): boolean {
  return Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES;
}

/**
 * Orders keys the way S3 lists them: by the bytes of their UTF-8 encoding. That is code point
 * order, which differs from JavaScript's UTF-16 order only between surrogate pairs and U+E000-U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
