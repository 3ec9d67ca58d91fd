// XML bodies, rendered as S3 renders them (the SDK's parser expects exactly these element names),
// and the two small request bodies the endpoint reads. No I/O here.

import { escapeXml } from '../server.js';
import type { ListPage, ListParams } from './listing.js';

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';
const NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

export interface ListedObject {
  readonly key: string;
  readonly lastModified: number;
  readonly etag: string;
  readonly size: number;
  readonly checksumAlgorithm?: string;
}

function element(name: string, value: string | number | boolean): string {
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** S3's `encoding-type=url`: percent-encode, leaving `/` readable as S3 does. */
function encodeIf(encodingType: 'url' | undefined, text: string): string {
  return encodingType === 'url' ? encodeURIComponent(text).replace(/%2F/g, '/') : text;
}

export function renderError(code: string, message: string, fields: Readonly<Record<string, string>>, requestId: string): string {
  const parts = [element('Code', code), element('Message', message)];
  for (const [name, value] of Object.entries(fields)) parts.push(element(name, value));
  parts.push(element('RequestId', requestId), element('HostId', requestId));
  return `${DECLARATION}<Error>${parts.join('')}</Error>`;
}

export function renderListObjectsV2(bucket: string, params: ListParams, page: ListPage, objects: ReadonlyMap<string, ListedObject>): string {
  const encode = (text: string) => encodeIf(params.encodingType, text);
  const parts = [element('Name', bucket), element('Prefix', encode(params.prefix))];
  if (params.delimiter !== undefined) parts.push(element('Delimiter', encode(params.delimiter)));
  parts.push(element('MaxKeys', params.maxKeys));
  if (params.encodingType) parts.push(element('EncodingType', params.encodingType));
  parts.push(element('KeyCount', page.keys.length + page.commonPrefixes.length), element('IsTruncated', page.isTruncated));
  if (params.continuationToken !== undefined) parts.push(element('ContinuationToken', params.continuationToken));
  if (page.nextContinuationToken !== undefined) parts.push(element('NextContinuationToken', page.nextContinuationToken));
  if (params.startAfter !== undefined) parts.push(element('StartAfter', encode(params.startAfter)));
  for (const key of page.keys) {
    const object = objects.get(key);
    if (!object) continue;
    const fields = [element('Key', encode(key)), element('LastModified', new Date(object.lastModified).toISOString()), element('ETag', object.etag)];
    if (object.checksumAlgorithm) fields.push(element('ChecksumAlgorithm', object.checksumAlgorithm));
    fields.push(element('Size', object.size), element('StorageClass', 'STANDARD'));
    parts.push(`<Contents>${fields.join('')}</Contents>`);
  }
  for (const prefix of page.commonPrefixes) parts.push(`<CommonPrefixes>${element('Prefix', encode(prefix))}</CommonPrefixes>`);
  return `${DECLARATION}<ListBucketResult xmlns="${NAMESPACE}">${parts.join('')}</ListBucketResult>`;
}

export function renderListBuckets(buckets: readonly { readonly name: string; readonly createdAt: number; readonly region: string }[], accountId: string): string {
  const entries = buckets
    .map((bucket) => `<Bucket>${element('Name', bucket.name)}${element('CreationDate', new Date(bucket.createdAt).toISOString())}${element('BucketRegion', bucket.region)}</Bucket>`)
    .join('');
  return `${DECLARATION}<ListAllMyBucketsResult xmlns="${NAMESPACE}"><Owner>${element('ID', accountId)}${element('DisplayName', 'cpsync-local')}</Owner><Buckets>${entries}</Buckets></ListAllMyBucketsResult>`;
}

export function renderInitiateMultipartUpload(bucket: string, key: string, uploadId: string): string {
  return `${DECLARATION}<InitiateMultipartUploadResult xmlns="${NAMESPACE}">${element('Bucket', bucket)}${element('Key', key)}${element('UploadId', uploadId)}</InitiateMultipartUploadResult>`;
}

export function renderCompleteMultipartUpload(location: string, bucket: string, key: string, etag: string): string {
  return `${DECLARATION}<CompleteMultipartUploadResult xmlns="${NAMESPACE}">${element('Location', location)}${element('Bucket', bucket)}${element('Key', key)}${element('ETag', etag)}</CompleteMultipartUploadResult>`;
}

export interface RequestedPart {
  readonly partNumber: number;
  readonly etag: string;
}

/**
 * Reads `<CompleteMultipartUpload><Part><PartNumber/><ETag/></Part>…`. Undefined when the body is
 * not that document (MalformedXML). Checksum elements per part are accepted and ignored.
 */
export function parseCompleteMultipartUpload(body: string): RequestedPart[] | undefined {
  const root = /<CompleteMultipartUpload(?:\s[^>]*)?>([\s\S]*)<\/CompleteMultipartUpload>/.exec(body);
  if (!root) return undefined;
  const parts: RequestedPart[] = [];
  for (const match of (root[1] as string).matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const inner = match[1] as string;
    const partNumber = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(inner)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(inner)?.[1];
    if (partNumber === undefined || etag === undefined) return undefined;
    parts.push({ partNumber: Number(partNumber), etag: unescapeXml(etag.trim()) });
  }
  return parts.length ? parts : undefined;
}

/** The LocationConstraint of a CreateBucket body, '' when there is none. Undefined when malformed. */
export function parseCreateBucketConfiguration(body: string): string | undefined {
  if (!body.trim()) return '';
  if (!/<CreateBucketConfiguration[\s>]/.test(body)) return undefined;
  return unescapeXml(/<LocationConstraint>([\s\S]*?)<\/LocationConstraint>/.exec(body)?.[1]?.trim() ?? '');
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot|#x[0-9a-fA-F]+|#\d+);/g, (_, entity: string) => {
    switch (entity) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'apos':
        return "'";
      case 'quot':
        return '"';
      default:
        return String.fromCodePoint(entity.startsWith('#x') ? parseInt(entity.slice(2), 16) : Number(entity.slice(1)));
    }
  });
}
