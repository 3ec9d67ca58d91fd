// S3 errors as S3 sends them: an HTTP status, an XML <Error><Code> the SDK turns into an exception
// class (`NoSuchKey`, `NoSuchBucket`, otherwise `S3ServiceException` with `name` = code), a
// message copied from AWS, and the extra elements AWS adds (BucketName, Key, UploadId, ...).

export class S3Error extends Error {
  readonly status: number;
  readonly code: string;
  /** Extra <Error> elements, in order, after Code and Message. */
  readonly fields: Readonly<Record<string, string>>;
  /** Extra response headers (e.g. Content-Range on 416). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    super(message);
    this.name = code;
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.headers = headers;
  }
}

/** The catalogue: one constructor per S3 error code the endpoint returns, messages as AWS words them. */
export const s3Errors = {
  accessDenied: () => new S3Error(403, 'AccessDenied', 'Access Denied'),
  expiredToken: () => new S3Error(400, 'ExpiredToken', 'The provided token has expired.'),
  requestExpired: () => new S3Error(403, 'AccessDenied', 'Request has expired'),
  noSuchBucket: (bucket: string) => new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string) => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket }),
  bucketNotEmpty: (bucket: string) => new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket }),
  invalidBucketName: (bucket: string) => new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket }),
  keyTooLong: () => new S3Error(400, 'KeyTooLongError', 'Your key is too long'),
  invalidRange: (requested: string, size: number) =>
    new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: requested, ActualObjectSize: String(size) }, { 'content-range': `bytes */${size}` }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new S3Error(400, 'InvalidArgument', message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' }),
  invalidRequest: (message: string) => new S3Error(400, 'InvalidRequest', message),
  noSuchUpload: (uploadId: string) =>
    new S3Error(404, 'NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId }),
  invalidPart: (uploadId: string, partNumber: number, etag: string) =>
    new S3Error(
      400,
      'InvalidPart',
      "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
      { UploadId: uploadId, PartNumber: String(partNumber), ETag: etag },
    ),
  invalidPartOrder: (uploadId: string) => new S3Error(400, 'InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.', { UploadId: uploadId }),
  entityTooSmall: (size: number, partNumber: number, etag: string) =>
    new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', {
      ProposedSize: String(size),
      MinSizeAllowed: String(5 * 1024 * 1024),
      PartNumber: String(partNumber),
      ETag: etag,
    }),
  entityTooLarge: (size: number, max: number) =>
    new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { ProposedSize: String(size), MaxSizeAllowed: String(max) }),
  malformedXml: () => new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema'),
  incompleteBody: () => new S3Error(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header'),
  missingContentLength: () => new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.'),
  invalidDigest: () => new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.'),
  badDigest: (what: string) => new S3Error(400, 'BadDigest', `The ${what} you specified did not match the calculated checksum.`),
  badContentMd5: () => new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.'),
  preconditionFailed: (condition: string) => new S3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: condition }),
  notImplemented: (what: string) => new S3Error(501, 'NotImplemented', `A header or query you provided implies functionality that is not implemented (cpsync local: ${what}).`),
  methodNotAllowed: (method: string) => new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', { Method: method, ResourceType: 'OBJECT' }),
} as const;
