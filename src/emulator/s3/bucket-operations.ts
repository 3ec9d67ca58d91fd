// CreateBucket, HeadBucket, DeleteBucket, ListBuckets, ListObjectsV2.

import { dropResponse, type S3Call } from './call.js';
import { s3Errors } from './errors.js';
import { parseListParams, planListPage } from './listing.js';
import { isValidBucketName } from './names.js';
import { readSmallBody, sendEmpty, sendXml } from './respond.js';
import { parseCreateBucketConfiguration, renderListBuckets, renderListObjectsV2, type ListedObject } from './xml.js';

export async function createBucket(call: S3Call, bucket: string): Promise<void> {
  const body = await readSmallBody(call.request, 64 * 1024);
  const location = body === undefined ? undefined : parseCreateBucketConfiguration(body);
  if (location === undefined) throw s3Errors.malformedXml();
  if (!isValidBucketName(bucket)) throw s3Errors.invalidBucketName(bucket);
  const region = location || call.info.signer.region;
  if (call.objects.getBucket(bucket)) {
    // Legacy us-east-1 behaviour: re-creating a bucket you own there answers 200; elsewhere 409.
    if (call.info.signer.region !== 'us-east-1') throw s3Errors.bucketAlreadyOwnedByYou(bucket);
  } else {
    call.objects.createBucket(bucket, region, call.context.now());
  }
  if (dropResponse(call)) return;
  sendEmpty(call.response, 200, { location: `/${bucket}` });
}

export async function headBucket(call: S3Call, bucket: string): Promise<void> {
  const record = call.objects.getBucket(bucket);
  if (!record) throw s3Errors.noSuchBucket(bucket);
  if (dropResponse(call)) return;
  sendEmpty(call.response, 200, { 'x-amz-bucket-region': record.region, 'x-amz-access-point-alias': 'false' });
}

export async function deleteBucket(call: S3Call, bucket: string): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  if (!call.objects.deleteBucket(bucket)) throw s3Errors.bucketNotEmpty(bucket);
  if (dropResponse(call)) return;
  sendEmpty(call.response, 204);
}

export async function listBuckets(call: S3Call): Promise<void> {
  if (dropResponse(call)) return;
  sendXml(call.response, renderListBuckets(call.objects.listBuckets(), call.context.accountId));
}

export async function listObjectsV2(call: S3Call, bucket: string): Promise<void> {
  if (!call.objects.getBucket(bucket)) throw s3Errors.noSuchBucket(bucket);
  const params = parseListParams(call.query);
  if (params instanceof Error) throw params;
  const page = planListPage(call.objects.sortedKeys(bucket), params);
  const objects = call.objects.objectsOf(bucket);
  const listed = new Map<string, ListedObject>();
  for (const key of page.keys) {
    const object = objects.get(key);
    if (object) listed.set(key, { key, lastModified: object.lastModified, etag: object.etag, size: object.size, checksumAlgorithm: object.checksum?.algorithm });
  }
  if (dropResponse(call)) return;
  sendXml(call.response, renderListObjectsV2(bucket, params, page, listed));
}
